import { DpopKey } from '@signer/client';
import { DevPki, type IssuedCertificate } from '@signer/testing';
import {
  expectRefusal,
  httpsRequest,
  tinyLimits,
  type AuthorityHarness,
  type HttpAnswer,
  type RefusalExpectation,
} from './authority-harness';
import { startMtlsHarness } from './mtls-harness';

jest.setTimeout(30_000);

/**
 * mTLS-bound callers (RFC 8705) against a real HTTPS listener with client certificates: the
 * token's `cnf.x5t#S256` must match the certificate presented on the connection, and that
 * certificate must chain to `server.tls.clientCaFile`.
 */
describe('mTLS-bound callers over HTTPS', () => {
  let h: AuthorityHarness;
  let pki: DevPki;
  let caller: IssuedCertificate;
  let colleague: IssuedCertificate;
  let url: string;

  beforeAll(async () => {
    ({
      h,
      pki,
      clients: [caller, colleague],
    } = await startMtlsHarness((raw) => {
      raw['authority'] = { ...raw['authority'], senderConstraint: 'either' };
    }));
    url = h.signUrl;
  });
  afterAll(() => h.close());

  const send = (token: string, body: unknown, certificate?: IssuedCertificate): Promise<HttpAnswer> =>
    httpsRequest(url, {
      body,
      ca: pki.ca.certPem,
      cert: certificate?.certPem,
      key: certificate?.keyPem,
      headers: { authorization: `Bearer ${token}` },
    });
  const boundTo = (certificate: IssuedCertificate) => h.mint({ x5tS256: certificate.thumbprint });

  /** The refused request, then proof that nothing was signed and the row's PoE is untouched. */
  const expectRow = async (
    expectation: RefusalExpectation,
    request: (poe: string) => Promise<HttpAnswer>,
  ) => {
    const poe = await h.poe(tinyLimits());
    const signedBefore = h.signedCount();
    expectRefusal(h, await request(poe), expectation);
    expect(h.signedCount()).toBe(signedBefore);
    expect((await send(await boundTo(caller), h.body(poe), caller)).statusCode).toBe(200);
  };
  const refused = (reason: RegExp): RefusalExpectation => ({
    status: 401,
    code: 'invalid_token',
    scheme: 'Bearer',
    reason,
  });

  describe('when the client certificate matches cnf.x5t#S256', () => {
    it('signs, and audits the mtls binding with the certificate thumbprint', async () => {
      const response = await send(await boundTo(caller), h.body(await h.poe()), caller);
      expect(response.statusCode).toBe(200);
      const auditId = (response.json() as { auditId: string }).auditId;
      expect(h.auditLines().find((record) => record['auditId'] === auditId)).toMatchObject({
        outcome: 'signed',
        binding: { kind: 'mtls', thumbprint: caller.thumbprint },
      });
    });
  });

  describe('when the certificate does not bind the token', () => {
    it('refuses a request with no client certificate', () =>
      expectRow(refused(/client certificate matching cnf.x5t#S256, got none/), async (poe) =>
        send(await boundTo(caller), h.body(poe)),
      ));
    it('refuses another certificate of the same CA', () =>
      expectRow(refused(/got another certificate/), async (poe) =>
        send(await boundTo(caller), h.body(poe), colleague),
      ));
    it('ignores a self-signed certificate that does not chain to the CA, even when the token names it', async () => {
      const rogue = await DevPki.selfSigned('scanner-web');
      await expectRow(refused(/got none/), async (poe) => send(await boundTo(rogue), h.body(poe), rogue));
    });
    it('ignores a certificate issued by another CA, even when the token names it', async () => {
      const foreign = await (await DevPki.create('Another CA')).issueClient('scanner-web');
      await expectRow(refused(/got none/), async (poe) => send(await boundTo(foreign), h.body(poe), foreign));
    });
    it('refuses an mTLS-bound token presented with the DPoP scheme', () =>
      expectRow({ ...refused(/DPoP-bound token \(cnf.jkt\)/), scheme: 'DPoP' }, async (poe) => {
        const key = await DpopKey.generate();
        const token = await boundTo(caller);
        return httpsRequest(url, {
          body: h.body(poe),
          ca: pki.ca.certPem,
          cert: caller.certPem,
          key: caller.keyPem,
          headers: {
            authorization: `DPoP ${token}`,
            dpop: await key.proof({ method: 'POST', url, accessToken: token, iat: h.clock.seconds() }),
          },
        });
      }));
  });

  describe('when the PoE is the client certificate (poe.format mtls)', () => {
    it('is refused by offline Licensing, which cannot introspect a certificate (403, nothing signed)', async () => {
      const signedBefore = h.signedCount();
      const response = await send(
        await boundTo(caller),
        { ...h.body('unused'), poe: { format: 'mtls' } },
        caller,
      );
      expectRefusal(h, response, {
        status: 403,
        code: 'entitlement_denied',
        reason: /offline Licensing cannot introspect an mTLS PoE/,
      });
      expect(h.signedCount()).toBe(signedBefore);
    });
  });

  describe('when a DPoP caller uses the same HTTPS listener without a certificate', () => {
    it('signs: asking for a client certificate does not turn DPoP callers away', async () => {
      const key = await DpopKey.generate();
      const token = await h.mint({ jkt: key.thumbprint });
      const headers = async (nonce?: string) => ({
        authorization: `DPoP ${token}`,
        dpop: await key.proof({ method: 'POST', url, accessToken: token, nonce, iat: h.clock.seconds() }),
      });
      const body = h.body(await h.poe());
      const first = await httpsRequest(url, { body, ca: pki.ca.certPem, headers: await headers() });
      expect(first.statusCode).toBe(401);
      const nonce = String(first.headers['dpop-nonce']);
      const second = await httpsRequest(url, { body, ca: pki.ca.certPem, headers: await headers(nonce) });
      expect(second.statusCode).toBe(200);
    });
  });
});
