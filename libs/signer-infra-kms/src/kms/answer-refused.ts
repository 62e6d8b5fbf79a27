/**
 * A KMS answer the Signer refused before the client library read it: a redirect (never followed:
 * every KMS request carries a credential) or a body past the byte limit. `code` is a stable string
 * that the AWS and Google client libraries keep on the errors they wrap this one in; neither kind
 * is retried.
 */
export class KmsAnswerRefusedError extends Error {
  constructor(
    readonly code: 'REDIRECT_NOT_FOLLOWED' | 'ANSWER_TOO_LARGE',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KmsAnswerRefusedError';
  }
}

/** The refusal behind `error` (the libraries wrap it, keeping it as `cause`), if there is one. */
export function answerRefusalIn(error: unknown): KmsAnswerRefusedError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== null && typeof current === 'object'; depth++) {
    if (current instanceof KmsAnswerRefusedError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}
