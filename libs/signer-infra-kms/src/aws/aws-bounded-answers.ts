import { Readable } from 'node:stream';
import type { KMSClient } from '@aws-sdk/client-kms';
import { isRedirectStatus, readBoundedBody, UpstreamBodyTooLargeError } from '@signer/core';
import { KmsAnswerRefusedError } from '../kms/answer-refused';

/** Largest AWS KMS answer read: GetPublicKey (an RSA-4096 SPKI) or Sign is ~1–2 KiB of JSON. */
export const AWS_KMS_MAX_ANSWER_BYTES = 256 * 1024;

interface RawResponse {
  statusCode?: number;
  headers?: Record<string, string | undefined>;
  body?: unknown;
}

/**
 * Reads every KMS answer with a running byte limit before the SDK deserializes it, and refuses a
 * 3xx outright. The SDK's node:http handler never follows a redirect (a 3xx would only become an
 * unhelpful "Unknown" error), but it reads any body whole: a broken or hostile endpoint streaming
 * without end would fill the heap until the deadline. Added innermost in the deserialize step, so
 * it sees the raw response first.
 */
export function boundKmsAnswers(client: KMSClient, maxBytes = AWS_KMS_MAX_ANSWER_BYTES): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      const out = await next(args);
      const response = out.response as RawResponse;
      const body = response.body;
      if (!(body instanceof Readable)) return out;
      if (isRedirectStatus(response.statusCode ?? 0)) {
        body.destroy();
        throw new KmsAnswerRefusedError(
          'REDIRECT_NOT_FOLLOWED',
          `AWS KMS answered a redirect (HTTP ${response.statusCode}), not followed`,
        );
      }
      const headers = response.headers ?? {};
      let bytes: Buffer;
      try {
        bytes = await readBoundedBody(
          { headers: { get: (name) => headers[name] ?? null }, body },
          maxBytes,
          'AWS KMS answer',
        );
      } catch (error) {
        body.destroy();
        if (!(error instanceof UpstreamBodyTooLargeError)) throw error;
        throw new KmsAnswerRefusedError(
          'ANSWER_TOO_LARGE',
          `AWS KMS answer is larger than ${maxBytes} bytes`,
          {
            cause: error,
          },
        );
      }
      response.body = Readable.from([bytes]);
      return out;
    },
    { step: 'deserialize', priority: 'low', name: 'signerBoundedKmsAnswer' },
  );
}
