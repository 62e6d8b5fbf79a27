import type { LightMyRequestResponse } from 'fastify';

/**
 * Asserts an RFC 9457 problem as the contract shapes every refusal: the status, the stable code,
 * the public fields, the audit id of the decision and the correlation id; returns the body.
 */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> {
  expect(response.statusCode).toBe(status);
  expect(response.headers['content-type']).toContain('application/problem+json');
  const body = response.json();
  expect(body).toMatchObject({
    status,
    code,
    type: expect.stringContaining(code),
    title: expect.any(String),
    detail: expect.any(String),
  });
  expect(body.auditId).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers['x-correlation-id']).toBeDefined();
  return body;
}
