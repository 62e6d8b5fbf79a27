import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Ajv from 'ajv';
import { SignerConfigSchema, type SignerConfig } from './config-schema';
import { describeSchemaErrors } from './config-errors';
import { configuredFileProblems, unreadableFile } from './config-files';
import { ConfigError, parseConfigSource, parseEnvValue, type Locate } from './config-source';
import { checkConsistency } from './consistency';

export { ConfigError } from './config-source';

export const ENV_PREFIX = 'SIGNER__';

type Json = Record<string, unknown>;

/** `['authority', 'allowedAlgorithms', '1']` → `authority.allowedAlgorithms[1]`. */
const keyName = (path: readonly string[]) =>
  path.reduce(
    (name, segment) =>
      /^\d+$/.test(segment) ? `${name}[${segment}]` : name ? `${name}.${segment}` : segment,
    '',
  );

/**
 * Applies `SIGNER__SECTION__KEY=value` overrides; segments match existing keys case-insensitively.
 * `sources`, when given, records which variable set each key path (for error positions).
 */
export function applyEnvOverrides(config: Json, env: NodeJS.ProcessEnv, sources?: Map<string, string>): Json {
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX))
    .sort();
  for (const name of names) {
    const segments = name.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    let node: Json = config;
    const path: string[] = [];
    segments.forEach((segment, index) => {
      const known = Object.keys(node).find((key) => key.toLowerCase() === segment.toLowerCase());
      const key = known ?? schemaKey(segments.slice(0, index + 1)) ?? segment.toLowerCase();
      path.push(key);
      if (index === segments.length - 1) {
        node[key] = parseEnvValue(name, env[name] as string);
        sources?.set(path.join('.'), name);
      } else {
        if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
        node = node[key] as Json;
      }
    });
  }
  return config;
}

/** Finds the camelCase spelling of an env path in the schema (SERVER__PUBLICBASEURL → publicBaseUrl). */
function schemaKey(path: string[]): string | undefined {
  let schema: unknown = SignerConfigSchema;
  let found: string | undefined;
  for (const segment of path) {
    const properties = (schema as { properties?: Record<string, unknown> }).properties;
    if (!properties) return undefined;
    found = Object.keys(properties).find((key) => key.toLowerCase() === segment.toLowerCase());
    if (!found) return undefined;
    schema = properties[found];
  }
  return found;
}

/** Resolves file paths in the config relative to the config file's folder. */
function resolvePaths(config: SignerConfig, baseDir: string): void {
  const at = (path: string | undefined) =>
    path === undefined || isAbsolute(path) ? path : resolve(baseDir, path);
  config.authority.jwksFile = at(config.authority.jwksFile);
  config.licensing.offlineJwksFile = at(config.licensing.offlineJwksFile);
  config.releaseIntegrity.ociLayoutPath = at(config.releaseIntegrity.ociLayoutPath);
  config.releaseIntegrity.trustedKeysFiles = config.releaseIntegrity.trustedKeysFiles.map(
    (file) => at(file) as string,
  );
  config.audit.filePath = at(config.audit.filePath);
  config.ceremonies.filePath = at(config.ceremonies.filePath);
  config.state.filePath = at(config.state.filePath);
  if (config.server.tls) {
    config.server.tls.certFile = at(config.server.tls.certFile) as string;
    config.server.tls.keyFile = at(config.server.tls.keyFile) as string;
    config.server.tls.clientCaFile = at(config.server.tls.clientCaFile);
  }
  if (config.signing.keyless)
    config.signing.keyless.identityTokenFile = at(config.signing.keyless.identityTokenFile) as string;
  for (const key of Object.values(config.signing.keys)) {
    if (key.ref.startsWith('file://') && !isAbsolute(key.ref.slice(7)))
      key.ref = `file://${resolve(baseDir, key.ref.slice(7))}`;
  }
}

/** Where the problems come from and how to point at each key. */
interface Origin {
  file?: string;
  locate?: Locate;
}

/** One line per problem, `key: problem (where)`, under a header naming the file. */
function refuse(problems: Array<{ path: string[]; problem: string }>, origin: Origin): ConfigError {
  const lines = problems.map(({ path, problem }) => {
    const where = origin.locate?.(path);
    return `  ${keyName(path)}: ${problem}${where ? ` (${where})` : ''}`;
  });
  return new ConfigError(
    `invalid configuration${origin.file ? ` ${origin.file}` : ''}:\n${lines.join('\n')}`,
  );
}

/** A cross-key message starts with the key it is about (`quotas.redisUrl: required when …`). */
function splitProblem(message: string): { path: string[]; problem: string } {
  const match = /^([A-Za-z0-9_.[\]-]+): (.*)$/s.exec(message);
  if (!match) return { path: [], problem: message };
  return { path: match[1].replace(/\[(\d+)\]/g, '.$1').split('.'), problem: match[2] };
}

function validate(raw: unknown, baseDir: string, origin: Origin): SignerConfig {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true });
  const check = ajv.compile<SignerConfig>(SignerConfigSchema);
  const config = structuredClone(raw);
  if (!check(config)) throw refuse(describeSchemaErrors(check.errors ?? []), origin);
  resolvePaths(config, baseDir);
  const problems = checkConsistency(config);
  if (problems.length > 0) throw refuse(problems.map(splitProblem), origin);
  return config;
}

/** Validates a raw config object (defaults applied) or throws a ConfigError naming every bad key. */
export function validateConfig(raw: unknown, baseDir = process.cwd()): SignerConfig {
  return validate(raw, baseDir, {});
}

/**
 * Loads the YAML file named by `SIGNER_CONFIG` (or the given path), applies env overrides,
 * validates, and checks that every file the Signer reads at start-up is there. Every refusal
 * names the key and where it was set (file line and column, or the variable), never a value.
 */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): SignerConfig {
  if (!path) throw new ConfigError('no configuration: set SIGNER_CONFIG or pass --config <file>');
  const unreadable = unreadableFile(path);
  if (unreadable) throw new ConfigError(`cannot read configuration ${path} (${unreadable})`);
  const text = readFileSync(path, 'utf8');
  const source = parseConfigSource(text, path);
  if (typeof source.raw !== 'object' || source.raw === null || Array.isArray(source.raw))
    throw new ConfigError(`configuration ${path}: expected a YAML mapping`);
  const sources = new Map<string, string>();
  const raw = applyEnvOverrides(source.raw as Json, env, sources);
  const origin: Origin = {
    file: path,
    locate: (keyPath) => {
      for (let length = keyPath.length; length > 0; length -= 1) {
        const variable = sources.get(keyPath.slice(0, length).join('.'));
        if (variable) return `from ${variable}`;
      }
      return source.locate(keyPath);
    },
  };
  const config = validate(raw, dirname(resolve(path)), origin);
  const missing = configuredFileProblems(config);
  if (missing.length > 0) throw refuse(missing, origin);
  return config;
}
