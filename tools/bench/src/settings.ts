// The bench's settings, from the environment (docs/performance.md, "How to run").
import { pinningAvailable } from './processes';
import type { Settings } from './types';
import { parseVariants, type Variant } from './variants';

/** The embedded profile's DPoP nonces live 300 s, and one nonce serves the whole run. */
const MAX_SECONDS = 240;

export interface BenchSettings extends Settings {
  variants: Variant[];
}

/** What a phase needs: the settings, the cores (service / load, when pinned) and where failures go. */
export interface BenchContext {
  settings: BenchSettings;
  serviceCpu?: number;
  loadCpu?: number;
  /** The repository (tmp/bench/ is written there). */
  root: string;
  /** The bundled service (apps/signer-api). */
  signerBundle: string;
  failures: string[];
}

/** A number in (0, max] from `env[name]`, or `fallback` when unset or empty. */
export function numberSetting(env: NodeJS.ProcessEnv, name: string, fallback: number, max: number): number {
  const raw = env[name];
  const value = raw === undefined || raw === '' ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0 || value > max) {
    throw new Error(`${name}: expected a number in (0, ${max}], got ${raw}`);
  }
  return value;
}

export function readSettings(env: NodeJS.ProcessEnv): BenchSettings {
  return {
    seconds: numberSetting(env, 'BENCH_SECONDS', 10, MAX_SECONDS),
    warmupSeconds: numberSetting(env, 'BENCH_WARMUP_SECONDS', 3, 60),
    cryptoSeconds: numberSetting(env, 'BENCH_CRYPTO_SECONDS', 5, 60),
    connections: Math.round(numberSetting(env, 'BENCH_CONNECTIONS', 32, 1024)),
    rounds: Math.round(numberSetting(env, 'BENCH_ROUNDS', 3, 9)),
    pinned: env['BENCH_PIN'] !== '0' && pinningAvailable(),
    cpuProfile: env['BENCH_CPU_PROF'] === '1',
    keep: env['BENCH_KEEP'] === '1',
    variants: parseVariants(env['BENCH_VARIANTS']),
  };
}
