import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import Ajv, { type ErrorObject } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { SignerConfigSchema, type SignerConfig } from './config-schema';
import { checkConsistency } from './consistency';

export const ENV_PREFIX = 'SIGNER__';

/** A configuration the Signer refuses to start with; the message names the bad key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

function describe(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.');
  if (error.keyword === 'additionalProperties') {
    const extra = (error.params as { additionalProperty: string }).additionalProperty;
    return `${path ? `${path}.` : ''}${extra}: unknown key`;
  }
  if (error.keyword === 'required') {
    return `${path ? `${path}.` : ''}${(error.params as { missingProperty: string }).missingProperty}: required`;
  }
  return `${path || '(root)'}: ${error.message ?? 'invalid'}`;
}

/** Applies `SIGNER__SECTION__KEY=value` overrides; segments match existing keys case-insensitively. */
export function applyEnvOverrides(config: Json, env: NodeJS.ProcessEnv): Json {
  const names = Object.keys(env)
    .filter((name) => name.startsWith(ENV_PREFIX))
    .sort();
  for (const name of names) {
    const segments = name.slice(ENV_PREFIX.length).split('__').filter(Boolean);
    if (segments.length === 0) continue;
    let node: Json = config;
    segments.forEach((segment, index) => {
      const known = Object.keys(node).find((key) => key.toLowerCase() === segment.toLowerCase());
      const key = known ?? schemaKey(segments.slice(0, index + 1)) ?? segment.toLowerCase();
      if (index === segments.length - 1) {
        node[key] = parseYaml(env[name] as string);
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

/** Validates a raw config object (defaults applied) or throws a ConfigError naming every bad key. */
export function validateConfig(raw: unknown, baseDir = process.cwd()): SignerConfig {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const validate = ajv.compile<SignerConfig>(SignerConfigSchema);
  const config = structuredClone(raw);
  if (!validate(config)) {
    throw new ConfigError(`invalid configuration: ${(validate.errors ?? []).map(describe).join('; ')}`);
  }
  resolvePaths(config, baseDir);
  const problems = checkConsistency(config);
  if (problems.length > 0) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return config;
}

/** Loads the YAML file named by `SIGNER_CONFIG` (or the given path), applies env overrides, validates. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): SignerConfig {
  if (!path) throw new ConfigError('no configuration: set SIGNER_CONFIG or pass --config <file>');
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`cannot read configuration ${path}: ${(error as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null)
    throw new ConfigError(`configuration ${path}: expected a YAML mapping`);
  return validateConfig(applyEnvOverrides(raw as Json, env), dirname(resolve(path)));
}
