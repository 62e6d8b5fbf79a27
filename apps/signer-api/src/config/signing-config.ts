import { parseKeyRef, parseServiceEndpoint } from '@signer/infra-kms';
import type { SignerConfig } from './config-schema';

type KeyConfig = SignerConfig['signing']['keys'][string];

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

// The settings that only mean something for one backend: set on another, they would be silently
// ignored, so they are refused instead.
function keyProblems(keyId: string, key: KeyConfig): string[] {
  const at = `signing.keys.${keyId}`;
  let scheme: string;
  try {
    scheme = parseKeyRef(key.ref).scheme;
  } catch (error) {
    return [`${at}.ref: ${messageOf(error)}`];
  }
  const problems: string[] = [];
  const cloud = scheme === 'awskms' || scheme === 'gcpkms';
  // An HSM is remote too: calls take time, can queue and can be rate-limited.
  const remote = cloud || scheme === 'pkcs11';
  if (key.region !== undefined && scheme !== 'awskms') problems.push(`${at}.region: only for awskms:// keys`);
  if (key.endpoint !== undefined && !cloud)
    problems.push(`${at}.endpoint: only for awskms:// and gcpkms:// keys`);
  for (const name of ['maxRps', 'maxWaitMs', 'timeoutMs'] as const) {
    if (key[name] !== undefined && !remote)
      problems.push(`${at}.${name}: only for awskms://, gcpkms:// and pkcs11: keys`);
  }
  if (key.poolSize !== undefined && scheme !== 'pkcs11')
    problems.push(`${at}.poolSize: only for pkcs11: keys`);
  if (key.maxWaitMs !== undefined && key.maxRps === undefined)
    problems.push(`${at}.maxWaitMs: requires maxRps`);
  if (key.algorithm === 'EdDSA' && remote)
    problems.push(`${at}.algorithm: EdDSA is only available for file:// keys`);
  if (key.endpoint !== undefined) {
    try {
      parseServiceEndpoint(`${at}.endpoint`, key.endpoint);
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  return problems;
}

/** Cross-key rules of `signing` (docs/signing-backends.md). */
export function signingProblems(config: SignerConfig): string[] {
  const { keys, keyless, defaultMode } = config.signing;
  const problems = Object.keys(keys).flatMap((keyId) => keyProblems(keyId, keys[keyId]));
  if (defaultMode === 'keyless' && keyless === undefined) {
    problems.push('signing.keyless: required when signing.defaultMode is keyless');
  }
  if (keyless !== undefined) {
    try {
      parseServiceEndpoint('signing.keyless.fulcioUrl', keyless.fulcioUrl);
    } catch (error) {
      problems.push(messageOf(error));
    }
  }
  return problems;
}
