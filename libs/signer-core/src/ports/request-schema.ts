import type { SignDsseRequest } from '../model';

/**
 * Validates an untrusted request body. Contract: returns a structurally valid request or throws
 * `invalid_request` whose message names the offending field.
 */
export interface RequestSchema {
  parse(body: unknown): SignDsseRequest;
}
