/** The smallest valid configuration; its files are named relative to the config folder. */
const MINIMAL = {
  authority: { issuer: 'https://authority.example', jwksFile: 'jwks.json' },
  licensing: { offlineJwksFile: 'licensing.json' },
  releaseIntegrity: {
    scannerRepository: 'registry.example/scanner',
    ociLayoutPath: 'layout',
    trustedKeysFiles: ['keys.pem'],
  },
  quotas: { plans: { pro: { qps: 10, burst: 10, concurrency: 2, maxArtifactBytes: 1000, dailyCap: 10 } } },
  signing: { keys: { default: { ref: 'file://key.pem' } } },
  predicates: { allowed: ['p/1'] },
  audit: { filePath: 'audit.jsonl' },
};

/** {@link MINIMAL} with whole sections replaced, for specs that validate one section. */
export function minimalConfig(
  sections: Record<string, unknown> = {},
): typeof MINIMAL & Record<string, unknown> {
  return { ...structuredClone(MINIMAL), ...sections };
}
