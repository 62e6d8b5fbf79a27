import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePublicKeysFile, type ReleaseKey } from '@signer/dev';
import type { LightMyRequestResponse } from 'fastify';
import { Caller, startHarness, validBody, type Harness } from './harness';

export { expectProblem } from './problem';

export const REFERRERS_PATH = '/api/v1/signer/verify/referrers';

export interface RegistryHarnessOptions {
  registryUrl: string;
  trustedKeys: readonly ReleaseKey[];
  /** `releaseIntegrity.registryAuth`. */
  registryAuth?: Record<string, unknown>;
  /** More `SIGNER__…` overrides. */
  env?: NodeJS.ProcessEnv;
}

export interface RegistryHarness {
  harness: Harness;
  caller: Caller;
  /** `GET /verify/referrers?digest=`. */
  verify(digest: string): Promise<LightMyRequestResponse>;
  /** `POST /sign/dsse` with a valid body for this scanner digest (and optional PoE). */
  sign(digest: string, poe?: string): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

/** A Signer whose release gate reads the given registry (the embedded profile's OCI layout removed). */
export async function startRegistryHarness(options: RegistryHarnessOptions): Promise<RegistryHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'release-keys-'));
  const keysFile = writePublicKeysFile(join(dir, 'release-keys.pem'), options.trustedKeys);
  const harness = await startHarness({
    env: {
      SIGNER__RELEASEINTEGRITY__REGISTRYURL: options.registryUrl,
      SIGNER__RELEASEINTEGRITY__TRUSTEDKEYSFILES: JSON.stringify([keysFile]),
      ...options.env,
    },
    configure: (config) => {
      delete config.releaseIntegrity.ociLayoutPath;
      if (options.registryAuth) config.releaseIntegrity.registryAuth = options.registryAuth;
    },
  });
  const caller = await Caller.create(harness);
  return {
    harness,
    caller,
    verify: (digest) => caller.send('GET', `${REFERRERS_PATH}?digest=${digest}`),
    sign: (digest, poe) =>
      caller.sign(
        validBody(harness, {
          scannerImageDigest: digest,
          ...(poe ? { poe: { format: 'jwt', value: poe } } : {}),
        }),
      ),
    close: async () => {
      await harness.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Asserts a `/verify/referrers` answer: 200, the verdict fields, and returns it. */
export function expectVerdict(
  response: LightMyRequestResponse,
  expected: { trusted: boolean; reason: string | null; source: string },
): Record<string, unknown> {
  expect(response.statusCode).toBe(200);
  const body = response.json();
  expect({ trusted: body.trusted, reason: body.reason, source: body.source }).toEqual(expected);
  return body;
}

/** The audit outcome recorded for the last decision about `digest`. */
export function lastOutcome(harness: Harness, digest: string): unknown {
  const records = harness.auditLines().filter((r) => r.scannerImageDigest === digest);
  return records[records.length - 1]?.outcome;
}
