import { SCHEMA_MEMBER_NAMES } from './schema-member-names';

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS).
 *
 * - objects: members sorted by the UTF-16 code units of their names (RFC 8785 §3.2.3);
 * - numbers: the ECMAScript Number-to-String algorithm (§3.2.2.3); NaN and ±Infinity are errors;
 * - strings: minimal JSON escaping with lowercase `\u00xx` (§3.2.2.2); lone surrogates are errors
 *   because they have no UTF-8 encoding (§3.2.2.2, I-JSON).
 *
 * @see https://www.rfc-editor.org/rfc/rfc8785
 */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

/** No character JSON must escape: no quote, no backslash, no control character below U+0020. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const NOTHING_TO_ESCAPE = /^[^"\\\u0000-\u001f]*$/;

function serializeString(value: string): string {
  // Node 20+: a native scan, far cheaper than a lone-surrogate regular expression.
  if (!value.isWellFormed()) {
    throw new CanonicalJsonError('expected well-formed Unicode, got a lone surrogate');
  }
  // JSON.stringify implements exactly the ECMAScript QuoteJSONString that RFC 8785 adopts; for a
  // well-formed string with nothing to escape that is the string in quotes. Most strings here
  // (digests, base64, identifiers) are such strings, and the regular expression scans them
  // several times faster than JSON.stringify does on Node 20.
  return NOTHING_TO_ESCAPE.test(value) ? `"${value}"` : JSON.stringify(value);
}

function serializeNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new CanonicalJsonError(`expected a finite number, got ${String(value)}`);
  }
  // Number.prototype.toString is the ES6 algorithm RFC 8785 §3.2.2.3 mandates; -0 becomes "0".
  return Object.is(value, -0) ? '0' : String(value);
}

// ---------------------------------------------------------------------------------------------
// The two hot-path tricks, both here and nowhere else. Canonical JSON runs for every audit record,
// statement and bundle, and the bench showed its allocations on the signing path: (1) a
// process-wide cache of serialised member names, so a name is checked and quoted once, not per
// member; (2) an in-place insertion sort of member names, which allocates nothing where
// `Array.prototype.sort` allocates work arrays on every call. The cache is bounded: the Signer's
// own names (schema-member-names.ts) are seeded and stay; names callers choose fill at most
// MEMBER_NAME_CACHE_CALLER_ENTRIES entries of at most MEMBER_NAME_CACHE_MAX_LENGTH characters,
// first come, so a caller sending thousands of distinct names can neither grow memory without
// bound nor push the schema's names off the fast path; past the bound a name is serialised each
// time. Everything else in this file is the plain RFC 8785 algorithm.
// ---------------------------------------------------------------------------------------------

/** A member name serialised with its colon, as the first member and as a following one. */
interface MemberPrefix {
  first: string;
  next: string;
}

/** Names a caller chooses (predicate members) share this many cache entries, first come. */
export const MEMBER_NAME_CACHE_CALLER_ENTRIES = 1024;
/** Longer names are serialised every time: the cache holds at most 1024 × 64 caller characters. */
export const MEMBER_NAME_CACHE_MAX_LENGTH = 64;

function prefixOf(name: string): MemberPrefix {
  const first = `${serializeString(name)}:`;
  return { first, next: `,${first}` };
}

const memberPrefixes = new Map<string, MemberPrefix>(
  SCHEMA_MEMBER_NAMES.map((name) => [name, prefixOf(name)]),
);
const MEMBER_NAME_CACHE_ENTRIES = memberPrefixes.size + MEMBER_NAME_CACHE_CALLER_ENTRIES;

function memberPrefix(name: string): MemberPrefix {
  const known = memberPrefixes.get(name);
  if (known !== undefined) return known;
  const prefix = prefixOf(name);
  if (name.length <= MEMBER_NAME_CACHE_MAX_LENGTH && memberPrefixes.size < MEMBER_NAME_CACHE_ENTRIES) {
    memberPrefixes.set(name, prefix);
  }
  return prefix;
}

/**
 * The member-name cache as it stands: how full it is and what it holds. A seam for the spec that
 * proves the bound (member-name-cache.spec.ts loads a fresh copy of this module, which Knip cannot
 * follow, hence the tag).
 *
 * @testSeam
 */
export function memberNameCache(): { schemaNames: number; callerNames: number; has(name: string): boolean } {
  return {
    schemaNames: SCHEMA_MEMBER_NAMES.length,
    callerNames: memberPrefixes.size - SCHEMA_MEMBER_NAMES.length,
    has: (name) => memberPrefixes.has(name),
  };
}

/** Up to this many members are sorted in place by insertion; more by Array.prototype.sort. */
const INSERTION_SORT_MAX = 24;

/**
 * Sorts member names by their UTF-16 code units (RFC 8785 §3.2.3) — what `<` on strings and the
 * default `sort()` both compare. Records and statements have a few dozen members at most.
 */
function sortNames(names: string[]): void {
  if (names.length > INSERTION_SORT_MAX) {
    names.sort();
    return;
  }
  for (let index = 1; index < names.length; index += 1) {
    const name = names[index] as string;
    let at = index - 1;
    while (at >= 0 && (names[at] as string) > name) {
      names[at + 1] = names[at] as string;
      at -= 1;
    }
    names[at + 1] = name;
  }
}

// --- end of the hot-path tricks --------------------------------------------------------------

function serialize(value: unknown, depth: number): string {
  if (depth > 256) throw new CanonicalJsonError('expected nesting depth <= 256');
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return serializeNumber(value);
    case 'string':
      return serializeString(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`expected a JSON value, got ${typeof value}`);
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let index = 0; index < value.length; index += 1) {
      if (index > 0) out += ',';
      out += serialize(value[index], depth + 1);
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const names = Object.keys(record);
  sortNames(names);
  let out = '{';
  let first = true;
  for (let index = 0; index < names.length; index += 1) {
    const name = names[index] as string;
    const member = record[name];
    if (member === undefined) continue;
    const prefix = memberPrefix(name);
    out += first ? prefix.first : prefix.next;
    out += serialize(member, depth + 1);
    first = false;
  }
  return `${out}}`;
}

/** The canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  return serialize(value, 0);
}

/** The canonical JSON of `value` as UTF-8 bytes: what gets hashed and signed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
