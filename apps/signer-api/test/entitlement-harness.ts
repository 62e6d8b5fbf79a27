import type { RawConfig } from './harness';

/** `licensing` settings of an online deployment (contract §4). */
export interface OnlineLicensingSettings {
  cacheTtlSeconds?: number;
  negativeCacheTtlSeconds?: number;
  timeoutMs?: number;
}

/** A config edit: PoEs are introspected at `introspectUrl` (the offline JWKS removed). */
export function onlineLicensing(
  introspectUrl: string,
  settings: OnlineLicensingSettings = {},
): (config: RawConfig) => void {
  return (config) => {
    delete config['licensing']['offlineJwksFile'];
    Object.assign(config['licensing'], { introspectUrl, ...settings });
  };
}
