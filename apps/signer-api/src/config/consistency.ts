import type { SignerConfig } from './config-schema';

/**
 * Backends the contract names that this build does not implement yet. Configuring one is a
 * start-up error naming the key — the Signer never runs with a gate it cannot enforce.
 * Each entry disappears when its issue lands (see TASKS.md).
 */
const NOT_YET_SUPPORTED: Array<[string, (config: SignerConfig) => boolean]> = [
  ['authority.jwksUri (remote JWKS, TASKS.md A-3)', (c) => c.authority.jwksUri !== undefined],
  [
    'licensing.introspectUrl (online Licensing, TASKS.md E-1)',
    (c) => c.licensing.introspectUrl !== undefined,
  ],
  [
    'releaseIntegrity.registryUrl (OCI registry, TASKS.md R-1)',
    (c) => c.releaseIntegrity.registryUrl !== undefined,
  ],
  ['quotas.store: redis (TASKS.md Q-2)', (c) => c.quotas.store === 'redis'],
  ['audit.sink: postgres (TASKS.md O-1)', (c) => c.audit.sink === 'postgres'],
  [
    'signing.keyless (Fulcio, TASKS.md K-3)',
    (c) => c.signing.keyless !== undefined || c.signing.defaultMode === 'keyless',
  ],
  ['server.tls (HTTPS and mTLS, TASKS.md A-4)', (c) => c.server.tls !== undefined],
];

const exactlyOne = (name: string, a: unknown, b: unknown, aName: string, bName: string): string[] =>
  (a === undefined) === (b === undefined) ? [`${name}: set exactly one of ${aName} or ${bName}`] : [];

/** Cross-key rules the schema cannot express. Returns one message per problem. */
export function checkConsistency(config: SignerConfig): string[] {
  const problems: string[] = [
    ...exactlyOne('authority', config.authority.jwksUri, config.authority.jwksFile, 'jwksUri', 'jwksFile'),
    ...exactlyOne(
      'licensing',
      config.licensing.introspectUrl,
      config.licensing.offlineJwksFile,
      'introspectUrl',
      'offlineJwksFile',
    ),
    ...exactlyOne(
      'releaseIntegrity',
      config.releaseIntegrity.registryUrl,
      config.releaseIntegrity.ociLayoutPath,
      'registryUrl',
      'ociLayoutPath',
    ),
  ];
  if (config.quotas.store === 'redis' && !config.quotas.redisUrl)
    problems.push('quotas.redisUrl: required when store is redis');
  if (config.audit.sink === 'file' && !config.audit.filePath)
    problems.push('audit.filePath: required when sink is file');
  if (config.audit.sink === 'postgres' && !config.audit.postgresUrl)
    problems.push('audit.postgresUrl: required when sink is postgres');
  if (config.authority.senderConstraint === 'mtls' && !config.server.tls?.clientCaFile) {
    problems.push('server.tls.clientCaFile: required when authority.senderConstraint is mtls');
  }
  const keyIds = Object.keys(config.signing.keys);
  if (config.signing.defaultMode === 'kms' && keyIds.length === 0)
    problems.push('signing.keys: at least one key is required for kms mode');
  for (const keyId of keyIds) {
    if (!/^(file|awskms|gcpkms):\/\/.+/.test(config.signing.keys[keyId].ref)) {
      problems.push(`signing.keys.${keyId}.ref: expected file://, awskms:// or gcpkms://`);
    }
  }
  for (const [name, configured] of NOT_YET_SUPPORTED) {
    if (configured(config)) problems.push(`${name}: not supported by this build`);
  }
  for (const keyId of keyIds) {
    if (!config.signing.keys[keyId].ref.startsWith('file://')) {
      problems.push(
        `signing.keys.${keyId}.ref: cloud KMS keys are not supported by this build (TASKS.md K-1, K-2)`,
      );
    }
  }
  return problems;
}

/** The URL callers use to reach the Signer; `htu` in DPoP proofs is checked against it. */
export function publicBaseUrl(config: SignerConfig): string {
  return (
    config.server.publicBaseUrl ??
    `${config.server.tls ? 'https' : 'http'}://${config.server.host}:${config.server.port}`
  );
}
