import { upstreamUrlProblem } from '@signer/core';
import type { SignerConfig } from './config-schema';
import { releaseRegistryProblems } from './release-registry-config';
import { signingProblems } from './signing-config';
import { stateProblems } from './state-config';
import { redisProblems } from './redis-config';
import { ceremonyProblems } from './ceremonies-config';

const exactlyOne = (name: string, a: unknown, b: unknown, aName: string, bName: string): string[] =>
  (a === undefined) === (b === undefined) ? [`${name}: set exactly one of ${aName} or ${bName}`] : [];

/** Keys from jwksFile, jwksUri, or (neither) OIDC discovery on the issuer; remote ones over https. */
function authorityKeySource(config: SignerConfig): string[] {
  const { issuer, jwksUri, jwksFile, jwksFetch } = config.authority;
  const problems: string[] = [];
  if (jwksUri !== undefined && jwksFile !== undefined) {
    problems.push(
      'authority: set exactly one of jwksUri or jwksFile (or neither, to discover jwks_uri from issuer)',
    );
  }
  if (jwksUri !== undefined && upstreamUrlProblem(jwksUri))
    problems.push(`authority.jwksUri: ${upstreamUrlProblem(jwksUri)}`);
  if (jwksUri === undefined && jwksFile === undefined && upstreamUrlProblem(issuer)) {
    problems.push(
      `authority: set exactly one of jwksUri or jwksFile, or an issuer usable for OIDC discovery (issuer: ${upstreamUrlProblem(issuer)})`,
    );
  }
  if (jwksFetch.maxStaleSeconds < jwksFetch.refreshSeconds)
    problems.push('authority.jwksFetch.maxStaleSeconds: expected at least refreshSeconds');
  return problems;
}

/** Cross-key rules the schema cannot express. Returns one message per problem. */
export function checkConsistency(config: SignerConfig): string[] {
  const problems: string[] = [
    ...authorityKeySource(config),
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
    ...releaseRegistryProblems(config),
  ];
  problems.push(...redisProblems(config));
  // The PoE travels to Licensing and its answer alone decides entitlement: the Authority's rule.
  const { introspectUrl } = config.licensing;
  if (introspectUrl !== undefined && upstreamUrlProblem(introspectUrl))
    problems.push(`licensing.introspectUrl: ${upstreamUrlProblem(introspectUrl)}`);
  for (const key of ['offlineIssuer', 'offlineAudience'] as const) {
    if (config.licensing[key] !== undefined && config.licensing.offlineJwksFile === undefined)
      problems.push(`licensing.${key}: only used with offlineJwksFile (Licensing judges online PoEs)`);
  }
  const { ttlSeconds, minRetentionSeconds } = config.idempotency;
  if (minRetentionSeconds > ttlSeconds)
    problems.push(
      `idempotency.minRetentionSeconds: expected at most idempotency.ttlSeconds (${ttlSeconds}), got ${minRetentionSeconds}`,
    );
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
  problems.push(...signingProblems(config));
  problems.push(...stateProblems(config));
  problems.push(...ceremonyProblems(config));
  return problems;
}

/**
 * The URL callers use to reach the Signer; `htu` in DPoP proofs is checked against it. Unless
 * `server.publicBaseUrl` says otherwise, it is the listen address — with `listeningPort`, the port
 * the listener really got (`server.port: 0` picks one), so the log line, OpenAPI `servers` and
 * `npm start`'s record name the port a `SIGNER__SERVER__PORT` override chose.
 */
export function publicBaseUrl(config: SignerConfig, listeningPort?: number): string {
  if (config.server.publicBaseUrl !== undefined) return config.server.publicBaseUrl;
  const { host, tls } = config.server;
  const hostname = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${hostname}:${listeningPort ?? config.server.port}`;
}
