import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevPki, freePort, type IssuedCertificate } from '@signer/testing';
import { AuthorityHarness } from './authority-harness';
import type { RawConfig } from './harness';

export interface MtlsHarness {
  h: AuthorityHarness;
  pki: DevPki;
  /** Two client certificates of the test CA (`scanner-web`, `export-center`). */
  clients: [IssuedCertificate, IssuedCertificate];
}

/**
 * An `AuthorityHarness` serving HTTPS on a free loopback port that asks every caller for a
 * certificate of a fresh test CA (RFC 8705); `configure` adds the suite's own settings.
 */
export async function startMtlsHarness(configure: (raw: RawConfig) => void): Promise<MtlsHarness> {
  const pki = await DevPki.create('Stella Ops Test Client CA');
  const [server, first, second] = await Promise.all([
    pki.issueServer(),
    pki.issueClient('scanner-web'),
    pki.issueClient('export-center'),
  ]);
  const port = await freePort();
  const h = await AuthorityHarness.start({
    port,
    configure: (raw, dir) => {
      writeFileSync(join(dir, 'server.pem'), server.certPem);
      writeFileSync(join(dir, 'server.key'), server.keyPem, { mode: 0o600 });
      writeFileSync(join(dir, 'client-ca.pem'), pki.ca.certPem);
      raw['server'] = {
        ...raw['server'],
        publicBaseUrl: `https://127.0.0.1:${port}`,
        tls: { certFile: 'server.pem', keyFile: 'server.key', clientCaFile: 'client-ca.pem' },
      };
      configure(raw);
    },
  });
  return { h, pki, clients: [first, second] };
}
