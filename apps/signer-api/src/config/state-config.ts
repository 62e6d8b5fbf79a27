import type { SignerConfig } from './config-schema';

/** Cross-key rules of `state` and the key-lifecycle seed in `signing` (contract §11). */
export function stateProblems(config: SignerConfig): string[] {
  const problems: string[] = [];
  const { state, signing } = config;
  if (state.store === 'postgres' && !state.postgresUrl)
    problems.push('state.postgresUrl: required when store is postgres');
  if (state.store === 'file' && !state.filePath) problems.push('state.filePath: required when store is file');
  if (state.store !== 'postgres' && state.postgresUrl !== undefined)
    problems.push('state.postgresUrl: only used when store is postgres');
  if (state.store !== 'file' && state.filePath !== undefined)
    problems.push('state.filePath: only used when store is file');
  if (state.maxStalenessMs <= state.refreshIntervalMs)
    problems.push(
      `state.maxStalenessMs: expected more than state.refreshIntervalMs (${state.refreshIntervalMs}), got ${state.maxStalenessMs}`,
    );
  const keys = signing.keys;
  const profiles = new Set(['default', ...Object.keys(signing.rotation.profiles)]);
  for (const [name, key] of Object.entries(keys)) {
    if (key.profile !== undefined && !profiles.has(key.profile))
      problems.push(
        `signing.keys.${name}.profile: expected a profile of signing.rotation.profiles, got "${key.profile}"`,
      );
    if (key.validFrom !== undefined && key.validUntil !== undefined && key.validUntil <= key.validFrom)
      problems.push(`signing.keys.${name}.validUntil: expected after validFrom (${key.validFrom})`);
  }
  const activeKey = (at: string, name: string) => {
    if (!(name in keys)) problems.push(`${at}: expected a key of signing.keys, got "${name}"`);
    else if ((keys[name].state ?? 'active') !== 'active')
      problems.push(`${at}: expected an active key, got "${name}"`);
  };
  if (signing.defaultKey !== undefined) activeKey('signing.defaultKey', signing.defaultKey);
  for (const [plan, name] of Object.entries(signing.planDefaults ?? {})) {
    if (!(plan in config.quotas.plans))
      problems.push(`signing.planDefaults.${plan}: expected a plan of quotas.plans`);
    activeKey(`signing.planDefaults.${plan}`, name);
  }
  return problems;
}
