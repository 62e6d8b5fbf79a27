import type { KeyManagementServiceClient } from '@google-cloud/kms';
import { parseServiceEndpoint } from '../kms/endpoint';
import { gcpTransporterOptions } from './gcp-transport';

/** The two calls the signer makes; the real client satisfies it, over gRPC or REST. */
export type GcpKmsApi = Pick<KeyManagementServiceClient, 'getPublicKey' | 'asymmetricSign'>;

/**
 * The Cloud KMS client for one key. Without `endpoint`: the library defaults (gRPC to
 * cloudkms.googleapis.com, Application Default Credentials). With `endpoint` (contract §7): the
 * REST transport at that base URL — with ADC over https; a loopback `http://` endpoint (an
 * emulator) gets no credentials at all, so no token is ever sent in clear text and the client does
 * not go looking for the cloud metadata server. Every HTTP request the client or its credentials
 * make goes through {@link gcpGuardedFetch}: no redirect followed, bodies read with a byte limit.
 * (gRPC has no redirects, and grpc-js caps a received message at 4 MiB.)
 */
export async function createGcpKmsClient(
  keyId: string,
  endpoint: string | undefined,
): Promise<KeyManagementServiceClient> {
  // Loaded when a gcpkms: key is built, not at start-up: the library and its gRPC stack take
  // ≈ 240 ms to load (a quarter of the service's start) and most installations never use them.
  const { KeyManagementServiceClient } = await import('@google-cloud/kms');
  const clientOptions = { transporterOptions: gcpTransporterOptions() };
  if (endpoint === undefined) return new KeyManagementServiceClient({ clientOptions });
  const parsed = parseServiceEndpoint(`signing.keys.${keyId}.endpoint`, endpoint);
  const { PassThroughClient } = await import('google-auth-library');
  return new KeyManagementServiceClient({
    fallback: true,
    apiEndpoint: parsed.host,
    port: parsed.port,
    protocol: parsed.protocol,
    ...(parsed.protocol === 'http'
      ? { authClient: new PassThroughClient({ transporterOptions: gcpTransporterOptions() }) }
      : { clientOptions }),
  });
}
