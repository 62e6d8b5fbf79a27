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

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(value: string): string {
  if (LONE_SURROGATE.test(value)) {
    throw new CanonicalJsonError('expected well-formed Unicode, got a lone surrogate');
  }
  // JSON.stringify implements exactly the ECMAScript QuoteJSONString that RFC 8785 adopts.
  return JSON.stringify(value);
}

function serializeNumber(value: number): string {
  if (!Number.isFinite(value)) {
    throw new CanonicalJsonError(`expected a finite number, got ${String(value)}`);
  }
  // Number.prototype.toString is the ES6 algorithm RFC 8785 §3.2.2.3 mandates; -0 becomes "0".
  return Object.is(value, -0) ? '0' : String(value);
}

function serialize(value: unknown, out: string[], depth: number): void {
  if (depth > 256) throw new CanonicalJsonError('expected nesting depth <= 256');
  if (value === null) {
    out.push('null');
    return;
  }
  switch (typeof value) {
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      out.push(serializeNumber(value));
      return;
    case 'string':
      out.push(serializeString(value));
      return;
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`expected a JSON value, got ${typeof value}`);
  }
  if (Array.isArray(value)) {
    out.push('[');
    value.forEach((item, index) => {
      if (index > 0) out.push(',');
      serialize(item, out, depth + 1);
    });
    out.push(']');
    return;
  }
  const record = value as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is the order RFC 8785 §3.2.3 requires.
  const names = Object.keys(record)
    .filter((name) => record[name] !== undefined)
    .sort();
  out.push('{');
  names.forEach((name, index) => {
    if (index > 0) out.push(',');
    out.push(serializeString(name), ':');
    serialize(record[name], out, depth + 1);
  });
  out.push('}');
}

/** The canonical JSON text of `value`. */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  serialize(value, out, 0);
  return out.join('');
}

/** The canonical JSON of `value` as UTF-8 bytes: what gets hashed and signed. */
export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalize(value), 'utf8');
}
