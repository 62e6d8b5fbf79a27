import { createHash } from 'node:crypto';
import { FakeLicensingServer, type DevPki, type IssuedCertificate } from '@signer/testing';
import { httpsRequest, type AuthorityHarness, type HttpAnswer } from './authority-harness';
import { startMtlsHarness } from './mtls-harness';

jest.setTimeout(30_000);

/**
 * `poe.format: mtls` with online Licensing over a real HTTPS listener: the PoE is the client
 * certificate of the connection, which the Signer introspects as its RFC 8705 fingerprint.
 */
describe('PoE as the mTLS client certificate, introspected online', () => {
  let h: AuthorityHarness;
  let pki: DevPki;
  let licensing: FakeLicensingServer;
  let entitled: IssuedCertificate;
  let unknown: IssuedCertificate;

  beforeAll(async () => {
    licensing = await FakeLicensingServer.start();
    ({
      h,
      pki,
      clients: [entitled, unknown],
    } = await startMtlsHarness((raw) => {
      raw['authority'] = { ...raw['authority'], senderConstraint: 'mtls' };
      delete raw['licensing']['offlineJwksFile'];
      raw['licensing']['introspectUrl'] = licensing.url;
    }));
    licensing.bindCertificate(
      entitled.der,
      {
        license_id: 'lic-mtls-1',
        tenant: h.profile.tenant,
        installation: h.profile.installation,
        plan: 'pro',
        active: true,
        revoked: false,
      },
      Math.floor(Date.now() / 1000) + 3600,
    );
  });
  afterAll(async () => {
    await h.close();
    await licensing.stop();
  });

  const send = async (certificate: IssuedCertificate): Promise<HttpAnswer> =>
    httpsRequest(h.signUrl, {
      body: { ...h.body('unused'), poe: { format: 'mtls' } },
      ca: pki.ca.certPem,
      cert: certificate.certPem,
      key: certificate.keyPem,
      headers: { authorization: `Bearer ${await h.mint({ x5tS256: certificate.thumbprint })}` },
    });

  describe('when Licensing knows the certificate', () => {
    it('signs, having introspected the base64url SHA-256 fingerprint of its DER', async () => {
      const response = await send(entitled);
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ policy: { plan: 'pro' } });
      expect(licensing.introspections.at(-1)).toEqual({
        format: 'mtls',
        poeSha256: createHash('sha256').update(entitled.thumbprint).digest('hex'),
      });
    });
  });

  describe('when Licensing does not know the certificate', () => {
    it('refuses with 403 entitlement_denied', async () => {
      const response = await send(unknown);
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'entitlement_denied' });
    });
  });
});
