import { DpopKey } from '@signer/client';
import type { LightMyRequestResponse } from 'fastify';
import { importJWK, SignJWT } from 'jose';
import type { HttpAnswer } from './authority-http';

/** Where a refusal leaves its traces: the audit trail and the operator log of the Signer that answered. */
export interface RefusalEvidence {
  auditLines(): Array<Record<string, unknown>>;
  logs: { lines: string[] };
}

/**
 * A proof signed by the caller's key with any header and claims (RFC 9449 violations a real
 * client library refuses to produce).
 */
export async function craftProof(
  key: DpopKey,
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
): Promise<string> {
  const jwk = await key.toPrivateJwk();
  const privateKey = await importJWK(jwk, key.algorithm);
  return new SignJWT(claims)
    .setProtectedHeader({ alg: key.algorithm, typ: 'dpop+jwt', jwk: key.publicJwk, ...header })
    .sign(privateKey);
}

export interface RefusalExpectation {
  status: number;
  code: string;
  /** The `WWW-Authenticate` scheme RFC 9449 / RFC 6750 require on this refusal. */
  scheme?: 'DPoP' | 'Bearer';
  /** Whether the challenge must name the error (RFC 6750 §3.1: not for a request with no credentials). */
  challengeNamesError?: boolean;
  /** Matched against the operator log line of this refusal, so a row cannot pass for another cause. */
  reason?: RegExp;
}

/** Status, problem body, challenge headers, and the audit record of the refusal (never `signed`). */
export function expectRefusal(
  harness: RefusalEvidence,
  response: LightMyRequestResponse | HttpAnswer,
  expectation: RefusalExpectation,
): Record<string, unknown> {
  expect({ status: response.statusCode, code: (response.json() as { code?: string }).code }).toEqual({
    status: expectation.status,
    code: expectation.code,
  });
  expect(String(response.headers['content-type'])).toContain('application/problem+json');
  const body = response.json() as Record<string, unknown>;
  expect(body).toMatchObject({ status: expectation.status, type: expect.stringContaining(expectation.code) });
  if (expectation.scheme) {
    const challenge = String(response.headers['www-authenticate'] ?? '');
    expect(challenge.startsWith(`${expectation.scheme} `)).toBe(true);
    if (expectation.challengeNamesError !== false) expect(challenge).toContain(`error="${expectation.code}"`);
    if (expectation.scheme === 'DPoP') expect(challenge).toContain('algs="');
  }
  if (expectation.code === 'use_dpop_nonce') {
    expect(response.headers['dpop-nonce']).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  }
  const records = harness.auditLines().filter((record) => record['auditId'] === body['auditId']);
  expect(records).toHaveLength(1);
  expect(records[0]).toMatchObject({ outcome: expectation.code });
  expect(records[0]['bundleSha256']).toBeUndefined();
  if (expectation.reason) {
    const logged = harness.logs.lines
      .map(parseLogLine)
      .find((line) => line['auditId'] === body['auditId'] && line['reason'] !== undefined);
    expect(String(logged?.['reason'])).toMatch(expectation.reason);
  }
  return body;
}

function parseLogLine(line: string): Record<string, unknown> {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return {};
  }
}
