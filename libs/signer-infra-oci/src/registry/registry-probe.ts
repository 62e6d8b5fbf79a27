import { discard, exchange } from './http-exchange';
import { statusError } from './registry-error';

/**
 * Readiness of a release registry (`/readyz`, contract §2.3): `GET /v2/` answers 200, or 401 (the
 * registry is up and wants credentials, which the release walk will present). Anything else rejects.
 *
 * @see https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#determining-support
 */
export async function probeRegistry(registryUrl: string, timeoutMs: number): Promise<void> {
  const { response } = await exchange({
    url: new URL('/v2/', registryUrl),
    headers: { 'user-agent': 'stella-ops-signer' },
    signal: AbortSignal.timeout(timeoutMs),
  });
  await discard(response);
  if (response.status !== 200 && response.status !== 401) throw statusError(response.status, 'GET /v2/');
}
