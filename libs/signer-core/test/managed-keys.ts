import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { KeySigner } from '../src/ports/key-signer';
import { spkiFingerprint } from '../src/keys/key-fingerprint';
import type { RegisteredKeyMaterial } from '../src/keys/key-lifecycle';
import type { ManagedState, ManagedStateStore } from '../src/keys/managed-state';

/** A P-256 key pair and its public facts, for lifecycle tests (real keys, real fingerprints). */
export function testKey(): RegisteredKeyMaterial & { privateKey: KeyObject } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  return { privateKey, publicKeyPem, keyId: spkiFingerprint(publicKeyPem), algorithm: 'ES256' };
}

/** A node:crypto signer for a test key, published under `name` the way backend signers are. */
export function testSigner(name: string, key: ReturnType<typeof testKey>): KeySigner {
  return {
    keyId: name,
    mode: 'kms',
    algorithm: 'ES256',
    sign: async (data) => ({
      signature: sign('sha256', data, key.privateKey),
      dsseKeyId: name,
      identity: { keyId: name },
      publicKeyPem: key.publicKeyPem,
    }),
    describe: async () => ({ keyId: name, algorithm: 'ES256', publicKeyPem: key.publicKeyPem }),
  };
}

/** The store contract in memory, for core tests (the real stores live in infra-store). */
export class TestStateStore implements ManagedStateStore {
  stored: ManagedState | undefined;
  failLoads = false;
  async load(): Promise<ManagedState | undefined> {
    if (this.failLoads) throw new Error('store down');
    return this.stored === undefined ? undefined : structuredClone(this.stored);
  }
  async compareAndSet(expected: number, next: ManagedState): Promise<boolean> {
    if ((this.stored?.version ?? 0) !== expected) return false;
    this.stored = structuredClone(next);
    return true;
  }
  async close(): Promise<void> {
    // Nothing to release: the state lives in this object.
  }
}
