import pino from 'pino';
import { ConfigError } from './config-source';

const LEVELS = [...Object.keys(pino.levels.values), 'silent'];

/** `SIGNER_LOG_LEVEL` (default `info`), checked before the logger exists: a bad level is a config error. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): string {
  const level = env['SIGNER_LOG_LEVEL'];
  if (level === undefined || level === '') return 'info';
  if (!LEVELS.includes(level)) {
    throw new ConfigError(
      `SIGNER_LOG_LEVEL: expected one of ${LEVELS.map((name) => JSON.stringify(name)).join(', ')}`,
    );
  }
  return level;
}
