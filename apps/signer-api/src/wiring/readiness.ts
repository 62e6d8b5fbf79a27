import { access, constants } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { licensingReachable } from '@signer/infra-authority';
import { probeRegistry } from '@signer/infra-oci';
import type { SignerConfig } from '../config/config-schema';
import type { SharedState } from './shared-state';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const readable = (path: string) => access(path, constants.R_OK);

/** `/readyz`: every configured dependency must answer (contract §2.3). */
export function readinessChecks(config: SignerConfig, state: SharedState): ReadinessCheck[] {
  const checks: ReadinessCheck[] = [];
  const redis = state.redis;
  if (redis) checks.push({ name: 'redis', check: () => redis.ping() });
  const layout = config.releaseIntegrity.ociLayoutPath;
  if (layout) checks.push({ name: 'release-layout', check: () => readable(join(layout, 'index.json')) });
  const { registryUrl } = config.releaseIntegrity;
  if (registryUrl) {
    checks.push({
      name: 'release-registry',
      check: () => probeRegistry(registryUrl, config.releaseIntegrity.timeoutMs),
    });
  }
  if (config.audit.sink === 'file' && config.audit.filePath) {
    const file = config.audit.filePath;
    checks.push({ name: 'audit-file', check: () => access(dirname(file), constants.W_OK) });
  }
  const { introspectUrl, timeoutMs } = config.licensing;
  if (introspectUrl)
    checks.push({ name: 'licensing', check: () => licensingReachable(introspectUrl, timeoutMs) });
  if (config.licensing.offlineJwksFile) {
    const file = config.licensing.offlineJwksFile;
    checks.push({ name: 'licensing-offline-keys', check: () => readable(file) });
  }
  return checks;
}
