import type { Clock, KeySigner, KeySignerRegistry, RateShaper } from '@signer/core';
import {
  AwsKmsSigner,
  CertificateSessions,
  createAwsKmsClient,
  createGcpKmsClient,
  FileKeySigner,
  FulcioClient,
  GcpKmsSigner,
  IdentityTokenFile,
  KeyConfigError,
  KeylessSigner,
  parseKeyRef,
  StaticKeySignerRegistry,
  unpaced,
  type CallPacer,
  type KmsAlgorithm,
} from '@signer/infra-kms';
import { MemoryRateShaper, RedisRateShaper } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';
import type { ReadinessCheck } from './readiness';
import type { SharedState } from './shared-state';

/** How long a signature may queue for a KMS slot when `maxRps` is set and `maxWaitMs` is not. */
export const DEFAULT_KMS_MAX_WAIT_MS = 1000;

type KeyConfig = SignerConfig['signing']['keys'][string];

/** The signers and what must be closed with the runtime (KMS clients hold connections). */
export interface KeySigners {
  registry: KeySignerRegistry;
  /** `/readyz`: each cloud key answers with its published key; Fulcio answers and the token is usable. */
  readiness: ReadinessCheck[];
  close(): Promise<void>;
}

/** The key used when a request names none: `default` if configured, else the first key id in sort order. */
export function defaultKeyId(config: SignerConfig): string | undefined {
  const ids = Object.keys(config.signing.keys).sort();
  return ids.includes('default') ? 'default' : ids[0];
}

// Per-key quota shaping (docs/signing-backends.md): in Redis when shared state is, so the limit
// holds across replicas; otherwise in this process.
function pacerFor(keyId: string, key: KeyConfig, shaper: () => RateShaper): CallPacer {
  if (key.maxRps === undefined) return unpaced;
  const limit = { maxRps: key.maxRps, maxWaitMs: key.maxWaitMs ?? DEFAULT_KMS_MAX_WAIT_MS };
  const shared = shaper();
  return () => shared.acquire(`kms:${keyId}`, limit);
}

const kmsAlgorithm = (key: KeyConfig): KmsAlgorithm | undefined =>
  key.algorithm === 'EdDSA' ? undefined : key.algorithm;

/**
 * Builds one signer per configured key — the backend chosen here only, by the key reference
 * scheme — plus the keyless signer when `signing.keyless` is set. Cloud keys are fetched and
 * checked now: a key that cannot sign as configured stops the process at start-up.
 */
export async function createKeySigners(
  config: SignerConfig,
  clock: Clock,
  state: SharedState,
): Promise<KeySigners> {
  const signers: KeySigner[] = [];
  const closers: Array<() => Promise<void>> = [];
  const readiness: ReadinessCheck[] = [];
  let shaper: RateShaper | undefined;
  const sharedShaper = () =>
    (shaper ??= state.redis
      ? new RedisRateShaper({ connection: state.redis })
      : new MemoryRateShaper({ clock }));
  try {
    for (const keyId of Object.keys(config.signing.keys).sort()) {
      const key = config.signing.keys[keyId];
      const ref = parseKeyRef(key.ref);
      const common = {
        keyId,
        algorithm: kmsAlgorithm(key),
        deadlineMs: key.timeoutMs,
        pace: pacerFor(keyId, key, sharedShaper),
      };
      switch (ref.scheme) {
        case 'file': {
          const signer = await FileKeySigner.fromFile({ keyId, path: ref.path });
          if (key.algorithm !== undefined && key.algorithm !== signer.algorithm) {
            throw new KeyConfigError(
              `signing key "${keyId}": configured algorithm ${key.algorithm} does not match the key file (${signer.algorithm})`,
            );
          }
          signers.push(signer);
          break;
        }
        case 'awskms': {
          const client = createAwsKmsClient(keyId, { region: key.region, endpoint: key.endpoint });
          closers.push(async () => client.destroy());
          const signer = await AwsKmsSigner.create({ ...common, kmsKeyId: ref.keyId, client });
          readiness.push({ name: `kms:${keyId}`, check: () => signer.probe() });
          signers.push(signer);
          break;
        }
        case 'gcpkms': {
          const client = createGcpKmsClient(keyId, key.endpoint);
          closers.push(() => client.close());
          const signer = await GcpKmsSigner.create({ ...common, name: ref.name, client });
          readiness.push({ name: `kms:${keyId}`, check: () => signer.probe() });
          signers.push(signer);
          break;
        }
      }
    }
    const keyless = config.signing.keyless;
    if (keyless) {
      const sessions = new CertificateSessions({
        fulcio: new FulcioClient({ baseUrl: keyless.fulcioUrl }),
        token: new IdentityTokenFile({ path: keyless.identityTokenFile, clock }),
        clock,
        rotationMarginSeconds: keyless.rotationMarginSeconds,
        deadlineMs: keyless.timeoutMs,
        requireEmbeddedSct: keyless.requireEmbeddedSct,
      });
      readiness.push({ name: 'fulcio', check: () => sessions.probe() });
      signers.push(new KeylessSigner({ sessions, clock }));
    }
    const registry = new StaticKeySignerRegistry({ signers, defaultKeyId: defaultKeyId(config) });
    return {
      registry,
      readiness,
      close: async () => void (await Promise.allSettled(closers.map((close) => close()))),
    };
  } catch (error) {
    await Promise.allSettled(closers.map((close) => close()));
    throw error;
  }
}
