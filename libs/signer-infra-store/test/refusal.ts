import { SignerError } from '@signer/core';

/** The SignerError a promise rejects with; fails the test if it resolves or throws anything else. */
export async function refusal(promise: Promise<unknown>): Promise<SignerError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof SignerError) return error;
    throw new Error(`expected a SignerError, got ${String(error)}`);
  }
  throw new Error('expected a refusal, got a success');
}
