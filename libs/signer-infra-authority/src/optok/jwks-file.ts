import { readFile } from 'node:fs/promises';
import { createLocalJWKSet, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';

/** Reads a JWKS file once; a file without a `keys` array is a configuration error, not an empty key set. */
export async function loadJwksFile(path: string): Promise<{ jwks: JSONWebKeySet; getKey: JWTVerifyGetKey }> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as Partial<JSONWebKeySet>;
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0) {
    throw new Error(`JWKS file ${path}: expected a non-empty "keys" array`);
  }
  const jwks = { keys: parsed.keys };
  return { jwks, getKey: createLocalJWKSet(jwks) };
}
