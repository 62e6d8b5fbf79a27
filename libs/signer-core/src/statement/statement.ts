import { CanonicalJsonError, canonicalize } from '../canonical-json/canonical-json';
import { SignerError } from '../errors';
import type { SubjectInput } from '../model';

/** in-toto Statement v1 type URI. */
export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
/** DSSE payload type for in-toto statements. */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const MAX_SUBJECTS = 1024;

const DIGEST_PATTERNS: Readonly<Record<string, RegExp>> = {
  sha256: /^[0-9a-f]{64}$/,
  sha384: /^[0-9a-f]{96}$/,
  sha512: /^[0-9a-f]{128}$/,
};

export interface InTotoStatement {
  _type: typeof IN_TOTO_STATEMENT_TYPE;
  subject: SubjectInput[];
  predicateType: string;
  predicate: Record<string, unknown>;
}

function validateSubject(subject: SubjectInput, index: number): SubjectInput {
  if (typeof subject.name !== 'string' || subject.name.length === 0) {
    throw new SignerError('invalid_request', `subject[${index}].name: expected a non-empty string`);
  }
  const algorithms = Object.keys(subject.digest ?? {});
  if (!algorithms.includes('sha256')) {
    throw new SignerError('invalid_request', `subject[${index}].digest: expected a sha256 entry`);
  }
  for (const algorithm of algorithms) {
    // Own members only: `constructor` or `toString` must not resolve to Object.prototype's.
    const pattern = Object.hasOwn(DIGEST_PATTERNS, algorithm) ? DIGEST_PATTERNS[algorithm] : undefined;
    if (!pattern) {
      throw new SignerError(
        'invalid_request',
        `subject[${index}].digest: unsupported algorithm ${algorithm}`,
      );
    }
    if (!pattern.test(subject.digest[algorithm])) {
      throw new SignerError(
        'invalid_request',
        `subject[${index}].digest.${algorithm}: expected lowercase hex`,
      );
    }
  }
  return { name: subject.name, digest: { ...subject.digest } };
}

function digestKey(subject: SubjectInput): string {
  return Object.keys(subject.digest)
    .sort()
    .map((algorithm) => `${algorithm}:${subject.digest[algorithm]}`)
    .join(',');
}

function compareSubjects(a: SubjectInput, b: SubjectInput): number {
  if (a.name !== b.name) return a.name < b.name ? -1 : 1;
  const da = digestKey(a);
  const db = digestKey(b);
  return da === db ? 0 : da < db ? -1 : 1;
}

/**
 * Builds an in-toto Statement v1 with validated digests and subjects sorted by name, then digest,
 * so that the same request always yields the same statement.
 */
export function assembleStatement(input: {
  subject: SubjectInput[];
  predicateType: string;
  predicate: Record<string, unknown>;
}): InTotoStatement {
  if (input.subject.length < 1 || input.subject.length > MAX_SUBJECTS) {
    throw new SignerError(
      'invalid_request',
      `subject: expected 1 to ${MAX_SUBJECTS} entries, got ${input.subject.length}`,
    );
  }
  const subject = input.subject.map(validateSubject).sort(compareSubjects);
  const statement: InTotoStatement = {
    _type: IN_TOTO_STATEMENT_TYPE,
    subject,
    predicateType: input.predicateType,
    predicate: input.predicate,
  };
  return statement;
}

/**
 * A statement that has no canonical form (a lone surrogate, nesting deeper than JCS allows) cannot
 * be signed: it is the caller's body that is wrong, so it is refused here as `invalid_request`
 * rather than failing later as an internal error.
 */
export function canonicalPayload(statement: InTotoStatement): Buffer {
  try {
    return Buffer.from(canonicalize(statement), 'utf8');
  } catch (cause) {
    if (!(cause instanceof CanonicalJsonError)) throw cause;
    throw new SignerError('invalid_request', `body: expected canonical JSON, ${cause.message}`, { cause });
  }
}

/** The statement and its canonical bytes (the DSSE payload), canonicalised exactly once. */
export function buildSignedStatement(input: Parameters<typeof assembleStatement>[0]): {
  statement: InTotoStatement;
  payload: Buffer;
} {
  const statement = assembleStatement(input);
  return { statement, payload: canonicalPayload(statement) };
}

/** A validated statement; refuses one without a canonical form (see {@link buildSignedStatement}). */
export function buildStatement(input: Parameters<typeof assembleStatement>[0]): InTotoStatement {
  return buildSignedStatement(input).statement;
}
