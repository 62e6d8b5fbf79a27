import { errors } from 'jose';

/**
 * A short, secret-free description of why jose refused a JWT, for logs ("expected X, got Y" where
 * jose tells us). Never includes the token.
 */
export function describeJoseError(error: unknown): string {
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim} failed: ${error.reason}`;
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the kid';
  if (error instanceof errors.JWKSMultipleMatchingKeys) return 'several keys match';
  if (error instanceof errors.JOSEError) return `malformed (${error.code})`;
  return 'malformed';
}
