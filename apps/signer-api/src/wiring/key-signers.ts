import type { KeySigner, KeySignerRegistry } from '@signer/core';
import { FileKeySigner, parseKeyRef, StaticKeySignerRegistry } from '@signer/infra-kms';
import type { SignerConfig } from '../config/config-schema';

/** The key used when a request names none: `default` if configured, else the first key id in sort order. */
export function defaultKeyId(config: SignerConfig): string | undefined {
  const ids = Object.keys(config.signing.keys).sort();
  return ids.includes('default') ? 'default' : ids[0];
}

/** Builds one signer per configured key, choosing the backend by the key reference scheme. */
export async function createKeySigners(config: SignerConfig): Promise<KeySignerRegistry> {
  const signers: KeySigner[] = [];
  for (const keyId of Object.keys(config.signing.keys).sort()) {
    const ref = parseKeyRef(config.signing.keys[keyId].ref);
    switch (ref.scheme) {
      case 'file':
        signers.push(await FileKeySigner.fromFile({ keyId, path: ref.path }));
        break;
      default:
        throw new Error(`signing.keys.${keyId}.ref: ${ref.scheme} keys are not supported by this build`);
    }
  }
  return new StaticKeySignerRegistry({ signers, defaultKeyId: defaultKeyId(config) });
}
