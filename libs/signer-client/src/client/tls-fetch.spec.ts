import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { DevPki, type IssuedCertificate } from '@signer/testing';
import { SignerTransportError } from './client-errors';
import { SignerClient } from './signer-client';
import { createTlsFetch } from './tls-fetch';

interface Seen {
  authorization?: string;
  certificateThumbprint?: string;
}

describe('createTlsFetch', () => {
  let pki: DevPki;
  let client: IssuedCertificate;
  let server: Server;
  let baseUrl: string;
  const seen: Seen[] = [];
  let hang = false;

  beforeAll(async () => {
    pki = await DevPki.create();
    const serverCertificate = await pki.issueServer();
    client = await pki.issueClient('scanner-web');
    server = createServer(
      {
        key: serverCertificate.keyPem,
        cert: serverCertificate.certPem,
        ca: pki.ca.certPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (request, response) => {
        const socket = request.socket as TLSSocket;
        const raw = socket.authorized ? socket.getPeerCertificate().raw : undefined;
        seen.push({
          authorization: request.headers.authorization,
          certificateThumbprint: raw ? createHash('sha256').update(raw).digest('base64url') : undefined,
        });
        if (hang) return;
        response
          .writeHead(200, { 'content-type': 'application/json', 'x-correlation-id': 'c-1' })
          .end(JSON.stringify({ keys: [] }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  beforeEach(() => {
    seen.length = 0;
    hang = false;
  });

  const signerClient = (fetch: typeof globalThis.fetch, timeoutMs = 5000) =>
    new SignerClient({ baseUrl, accessToken: 'op.tok.en', fetch, timeoutMs });

  describe('when given a client certificate', () => {
    it('presents it on the TLS connection, and SignerClient sends the token as Bearer', async () => {
      const fetch = createTlsFetch({ ca: pki.ca.certPem, cert: client.certPem, key: client.keyPem });
      await expect(signerClient(fetch).verifyReferrers(`sha256:${'a'.repeat(64)}`)).resolves.toEqual({
        keys: [],
      });
      expect(seen).toEqual([{ authorization: 'Bearer op.tok.en', certificateThumbprint: client.thumbprint }]);
    });
  });

  describe('when given only a CA', () => {
    it('trusts the private CA and presents no certificate', async () => {
      const response = await createTlsFetch({ ca: pki.ca.certPem })(`${baseUrl}/x`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-correlation-id')).toBe('c-1');
      expect(seen).toEqual([{ authorization: undefined, certificateThumbprint: undefined }]);
    });
  });

  describe('when the exchange cannot complete', () => {
    it('refuses a server whose certificate does not chain to the given CA', async () => {
      const other = await DevPki.create('Another CA');
      await expect(
        signerClient(createTlsFetch({ ca: other.ca.certPem })).verifyReferrers(`sha256:${'a'.repeat(64)}`),
      ).rejects.toMatchObject({ name: 'SignerTransportError', code: 'network_error' });
      expect(seen).toHaveLength(0);
    });
    it('aborts a request that gets no answer within the client timeout', async () => {
      hang = true;
      const failure = signerClient(createTlsFetch({ ca: pki.ca.certPem }), 200).verifyReferrers(
        `sha256:${'a'.repeat(64)}`,
      );
      await expect(failure).rejects.toBeInstanceOf(SignerTransportError);
      await expect(failure).rejects.toMatchObject({ code: 'timeout' });
    });
    it('refuses a plain http URL and a cert without its key', () => {
      expect(() => createTlsFetch({ cert: client.certPem })).toThrow(/both cert and key/);
      return expect(createTlsFetch({})('http://127.0.0.1/')).rejects.toThrow(/expected an https URL/);
    });
  });
});
