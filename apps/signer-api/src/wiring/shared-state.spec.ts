import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_IDEMPOTENCY_MAX_BYTES,
  DEFAULT_IDEMPOTENCY_MAX_BYTES_PER_TENANT,
  DEFAULT_IDEMPOTENCY_MIN_RETENTION_SECONDS,
  DEFAULT_IDEMPOTENCY_TTL_SECONDS,
} from '@signer/infra-store';
import { validateConfig } from '../config/load-config';
import { minimalConfig } from '../config/minimal-config.fixture';
import { idempotencyLimits } from './shared-state';

/** A valid configuration (its start-up files exist, empty) with these sections merged in. */
function config(extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'signer-shared-state-'));
  for (const name of ['jwks.json', 'licensing.json', 'keys.pem', 'key.pem'])
    writeFileSync(join(dir, name), '');
  return validateConfig(
    minimalConfig({
      quotas: { plans: { pro: { qps: 1, burst: 1, concurrency: 1, maxArtifactBytes: 1000, dailyCap: 1 } } },
      ...extra,
    }),
    dir,
  );
}

describe('idempotencyLimits', () => {
  describe('when the configuration leaves idempotency at its defaults', () => {
    it('leases a claim for the request timeout plus 30 s and keeps the documented budgets', () => {
      expect(idempotencyLimits(config())).toEqual({
        ttlSeconds: DEFAULT_IDEMPOTENCY_TTL_SECONDS,
        leaseSeconds: 60,
        minRetentionSeconds: DEFAULT_IDEMPOTENCY_MIN_RETENTION_SECONDS,
        maxBytesPerTenant: DEFAULT_IDEMPOTENCY_MAX_BYTES_PER_TENANT,
        maxBytes: DEFAULT_IDEMPOTENCY_MAX_BYTES,
      });
    });
  });

  describe('when the request timeout is longer', () => {
    it('lengthens the lease with it, unless a lease is configured', () => {
      expect(idempotencyLimits(config({ server: { requestTimeoutMs: 45_500 } })).leaseSeconds).toBe(76);
      const pinned = config({ server: { requestTimeoutMs: 45_500 }, idempotency: { leaseSeconds: 5 } });
      expect(idempotencyLimits(pinned).leaseSeconds).toBe(5);
    });
  });
});
