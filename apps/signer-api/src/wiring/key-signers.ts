import type { Clock, KeySigner, RateShaper } from '@signer/core';
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
  Pkcs11Signer,
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

/** A key's backend settings (`signing.keys.<name>`): the reference plus its connection options. */
export type KeyConfig = SignerConfig['signing']['keys'][string];

/** One backend signer and what its reference brought with it. */
export interface BuiltSigner {
  signer: KeySigner;
  /** `/readyz` probe (cloud keys answer with their published key). */
  probe?: () => Promise<void>;
  /** Releases the client (KMS connections). */
  close?: () => Promise<void>;
}

/** What building a backend signer may share: the clock and the per-key rate shaper. */
export interface SignerContext {
  clock: Clock;
  shaper: () => RateShaper;
}

// Per-key quota shaping (docs/signing-backends.md): in Redis when shared state is, so the limit
// holds across replicas; otherwise in this process.
function pacerFor(name: string, key: KeyConfig, shaper: () => RateShaper): CallPacer {
  if (key.maxRps === undefined) return unpaced;
  const limit = { maxRps: key.maxRps, maxWaitMs: key.maxWaitMs ?? DEFAULT_KMS_MAX_WAIT_MS };
  const shared = shaper();
  return () => shared.acquire(`kms:${name}`, limit);
}

const kmsAlgorithm = (key: KeyConfig): KmsAlgorithm | undefined =>
  key.algorithm === 'EdDSA' ? undefined : key.algorithm;

/**
 * Builds the backend signer for one key reference — the one place a backend is chosen, by the
 * reference's scheme. Used for configured keys at start and for keys registered by a ceremony
 * (contract §11). `name` labels the key in errors, metrics and KMS pacing; the published keyid is
 * the key's fingerprint, set by the managed registry. Cloud keys are fetched and checked now.
 */
export async function createSignerForRef(
  name: string,
  key: KeyConfig,
  context: SignerContext,
): Promise<BuiltSigner> {
  const ref = parseKeyRef(key.ref);
  const common = {
    keyId: name,
    algorithm: kmsAlgorithm(key),
    deadlineMs: key.timeoutMs,
    pace: pacerFor(name, key, context.shaper),
  };
  switch (ref.scheme) {
    case 'file': {
      const signer = await FileKeySigner.fromFile({ keyId: name, path: ref.path });
      if (key.algorithm !== undefined && key.algorithm !== signer.algorithm) {
        throw new KeyConfigError(
          `signing key "${name}": configured algorithm ${key.algorithm} does not match the key file (${signer.algorithm})`,
        );
      }
      return { signer };
    }
    case 'awskms': {
      const client = await createAwsKmsClient(name, { region: key.region, endpoint: key.endpoint });
      const close = async () => client.destroy();
      const signer = await AwsKmsSigner.create({ ...common, kmsKeyId: ref.keyId, client }).catch(
        async (error) => {
          await close();
          throw error;
        },
      );
      return { signer, probe: () => signer.probe(), close };
    }
    case 'gcpkms': {
      const client = await createGcpKmsClient(name, key.endpoint);
      const close = () => client.close();
      const signer = await GcpKmsSigner.create({ ...common, name: ref.name, client }).catch(async (error) => {
        await close();
        throw error;
      });
      return { signer, probe: () => signer.probe(), close };
    }
    case 'pkcs11': {
      // The module comes from the URI's module-path only: no search path picks the code that runs.
      const signer = await Pkcs11Signer.create({ ...common, uri: ref.uri, poolSize: key.poolSize });
      return { signer, probe: () => signer.probe(), close: () => signer.close() };
    }
    default:
      throw new KeyConfigError(
        `signing key "${name}": ${(ref as { scheme: string }).scheme}: references cannot sign in this build`,
      );
  }
}

/** The shared rate shaper for KMS pacing: in Redis when shared state is, else in this process. */
export function kmsShaper(clock: Clock, state: SharedState): () => RateShaper {
  let shaper: RateShaper | undefined;
  return () =>
    (shaper ??= state.redis
      ? new RedisRateShaper({ connection: state.redis })
      : new MemoryRateShaper({ clock }));
}

/** The keyless signer (`signing.keyless`) and its `/readyz` check, when configured. */
export function createKeylessSigner(
  config: SignerConfig,
  clock: Clock,
): { signer: KeySigner; readiness: ReadinessCheck } | undefined {
  const keyless = config.signing.keyless;
  if (!keyless) return undefined;
  const sessions = new CertificateSessions({
    fulcio: new FulcioClient({ baseUrl: keyless.fulcioUrl }),
    token: new IdentityTokenFile({ path: keyless.identityTokenFile, clock }),
    clock,
    rotationMarginSeconds: keyless.rotationMarginSeconds,
    deadlineMs: keyless.timeoutMs,
    requireEmbeddedSct: keyless.requireEmbeddedSct,
  });
  return {
    signer: new KeylessSigner({ sessions, clock }),
    readiness: { name: 'fulcio', check: () => sessions.probe() },
  };
}
