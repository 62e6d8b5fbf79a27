import { join, dirname } from 'node:path';
import { ceremonyPolicy, type CeremonyPolicy } from '@signer/core';
import type { SignerConfig } from './config-schema';

/** The `ceremonies` section as the core's policy (defaults filled in, thresholds checked). */
export function ceremonyPolicyOf(config: SignerConfig): CeremonyPolicy {
  const { expirySeconds, approvers, operations, maxOpenPerInitiator } = config.ceremonies;
  return ceremonyPolicy({ expirySeconds, approvers, operations, maxOpenPerInitiator });
}

/**
 * Where ceremonies live: the managed state's backend (`state.store`), so one PostgreSQL database
 * (or one folder) holds both the state and the ceremonies that change it.
 */
export function ceremonyFilePath(config: SignerConfig): string | undefined {
  if (config.ceremonies.filePath !== undefined) return config.ceremonies.filePath;
  return config.state.filePath === undefined
    ? undefined
    : join(dirname(config.state.filePath), 'ceremonies.json');
}

/** Thresholds ≤ the number of allowed approvers; a file path when the state lives in a file. */
export function ceremonyProblems(config: SignerConfig): string[] {
  const problems: string[] = [];
  try {
    ceremonyPolicyOf(config);
  } catch (error) {
    problems.push((error as Error).message);
  }
  if (config.state.store === 'file' && ceremonyFilePath(config) === undefined)
    problems.push('ceremonies.filePath: required when state.store is file and state.filePath is unset');
  if (config.state.store !== 'file' && config.ceremonies.filePath !== undefined)
    problems.push('ceremonies.filePath: only used when state.store is file');
  return problems;
}
