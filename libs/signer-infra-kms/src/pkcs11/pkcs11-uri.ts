import { isAbsolute } from 'node:path';
import { KeyConfigError } from '../errors';

/** RFC 7512 `type`: the object class a URI names. */
export type Pkcs11ObjectType = 'public' | 'private' | 'cert' | 'secret-key' | 'data';

/**
 * A parsed `pkcs11:` URI ({@link https://www.rfc-editor.org/rfc/rfc7512 RFC 7512}), restricted to
 * the attributes this Signer acts on. Token attributes select the token; `id`/`object` select the
 * key pair; the query says how to log in (`pin-source`) and which module to load.
 */
export interface Pkcs11Uri {
  token?: string;
  manufacturer?: string;
  serial?: string;
  model?: string;
  /** `CKA_LABEL` of the key objects. */
  object?: string;
  /** `CKA_ID` of the key objects (percent-decoded bytes). */
  id?: Buffer;
  type?: Pkcs11ObjectType;
  /** Absolute path of the file holding the user PIN (`pin-source=file:…`). */
  pinSource?: string;
  /** Absolute path of the PKCS#11 module (`module-path`). */
  modulePath?: string;
  moduleName?: string;
}

// Long enough for every attribute at its RFC maximum; a bound so a hostile config stays cheap.
const MAX_URI_LENGTH = 4096;

const PATH_ATTRIBUTES = ['token', 'manufacturer', 'serial', 'model', 'object', 'id', 'type'] as const;
const QUERY_ATTRIBUTES = ['pin-source', 'module-path', 'module-name'] as const;
const OBJECT_TYPES: readonly Pkcs11ObjectType[] = ['public', 'private', 'cert', 'secret-key', 'data'];

// RFC 7512 §2.3: unreserved, pct-encoded and the sub-delims each component allows ("&" only in
// the path; "/", "?" and "|" only in the query). Anything else (space, "#", "%" not followed by
// two hex digits, non-ASCII) makes the URI malformed.
const PATH_VALUE = /^(?:[A-Za-z0-9\-._~:[\]@!$'()*+,=&]|%[0-9A-Fa-f]{2})*$/;
const QUERY_VALUE = /^(?:[A-Za-z0-9\-._~:[\]@!$'()*+,=/?|]|%[0-9A-Fa-f]{2})*$/;

/**
 * Parses a `pkcs11:` key reference. Throws {@link KeyConfigError} naming the offending attribute —
 * never its value when that could be a secret: `pin-value` is refused outright, because a PIN in a
 * config file or URI ends up in backups, process listings and logs.
 */
export function parsePkcs11Uri(ref: string): Pkcs11Uri {
  const fail = (problem: string) => new KeyConfigError(`pkcs11 key reference: ${problem}`);
  if (ref.length > MAX_URI_LENGTH) throw fail(`longer than ${MAX_URI_LENGTH} characters`);
  if (!ref.startsWith('pkcs11:')) throw fail('expected the scheme "pkcs11:"');
  const body = ref.slice('pkcs11:'.length);
  const at = body.indexOf('?');
  const path = at < 0 ? body : body.slice(0, at);
  const query = at < 0 ? undefined : body.slice(at + 1);
  const uri: Pkcs11Uri = {};
  for (const [name, raw] of attributes(path, ';', fail)) {
    if (!PATH_VALUE.test(raw)) throw fail(`attribute "${name}" has characters RFC 7512 does not allow`);
    if (!(PATH_ATTRIBUTES as readonly string[]).includes(name)) {
      throw fail(`unsupported path attribute "${name}"; expected ${PATH_ATTRIBUTES.join(', ')}`);
    }
    setPathAttribute(uri, name as (typeof PATH_ATTRIBUTES)[number], raw, fail);
  }
  for (const [name, raw] of query === undefined ? [] : attributes(query, '&', fail)) {
    // Checked before anything else so the refusal never depends on (or echoes) the PIN.
    if (name === 'pin-value') {
      throw fail(
        '"pin-value" is refused: the PIN must not be in configuration; use pin-source=file:/abs/path',
      );
    }
    if (!QUERY_VALUE.test(raw)) throw fail(`attribute "${name}" has characters RFC 7512 does not allow`);
    if (!(QUERY_ATTRIBUTES as readonly string[]).includes(name)) {
      throw fail(`unsupported query attribute "${name}"; expected ${QUERY_ATTRIBUTES.join(', ')}`);
    }
    const value = decodeText(name, raw, fail);
    if (name === 'pin-source') uri.pinSource = pinSourcePath(value, fail);
    else if (name === 'module-path') uri.modulePath = absolutePath(name, value, fail);
    else uri.moduleName = value;
  }
  return uri;
}

/** `name=value` pairs split on `separator`; empty, nameless and repeated attributes are refused. */
function attributes(
  part: string,
  separator: string,
  fail: (problem: string) => KeyConfigError,
): Array<[string, string]> {
  const where = separator === ';' ? 'path' : 'query';
  if (part.length === 0) return [];
  const seen = new Set<string>();
  // Positions, not text, in these messages: a malformed pair may be a mistyped PIN.
  return part.split(separator).map((pair, index) => {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw fail(`${where} attribute ${index + 1} is not an attribute=value pair`);
    const name = pair.slice(0, eq);
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(name))
      throw fail(`${where} attribute ${index + 1} has an invalid name`);
    if (seen.has(name)) throw fail(`attribute "${name}" appears more than once`);
    seen.add(name);
    return [name, pair.slice(eq + 1)];
  });
}

function setPathAttribute(
  uri: Pkcs11Uri,
  name: (typeof PATH_ATTRIBUTES)[number],
  raw: string,
  fail: (problem: string) => KeyConfigError,
): void {
  if (name === 'id') {
    const id = Buffer.from(decodeURIComponentBytes(raw));
    if (id.length === 0) throw fail('attribute "id" is empty');
    uri.id = id;
    return;
  }
  const value = decodeText(name, raw, fail);
  if (name === 'type') {
    if (!(OBJECT_TYPES as readonly string[]).includes(value)) {
      throw fail(`attribute "type" must be one of ${OBJECT_TYPES.join(', ')}`);
    }
    uri.type = value as Pkcs11ObjectType;
    return;
  }
  uri[name] = value;
}

/** Percent-decodes to bytes; the caller has already checked every `%` has two hex digits. */
function decodeURIComponentBytes(raw: string): Uint8Array {
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === '%') {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(raw.charCodeAt(i));
    }
  }
  return Uint8Array.from(bytes);
}

// Text attributes must decode to UTF-8 without control characters: a label with a NUL or a
// newline is either an attack on a log line or a typo, never a real token label.
function decodeText(name: string, raw: string, fail: (problem: string) => KeyConfigError): string {
  let value: string;
  try {
    value = new TextDecoder('utf-8', { fatal: true }).decode(decodeURIComponentBytes(raw));
  } catch {
    throw fail(`attribute "${name}" is not valid UTF-8 once percent-decoded`);
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (value.length === 0 || /[\x00-\x1f\x7f]/.test(value)) {
    throw fail(`attribute "${name}" is empty or holds control characters`);
  }
  return value;
}

// Only a local file: RFC 7512 also allows `|command`, which would run a program from config.
function pinSourcePath(value: string, fail: (problem: string) => KeyConfigError): string {
  // `file:/p` or `file:///p`; `file://host/p` names another machine and is refused.
  const match = /^file:(?:\/\/(?=\/))?(\/(?!\/).*)$/.exec(value);
  if (!match) throw fail('"pin-source" must be file:/absolute/path (or file:///absolute/path)');
  return absolutePath('pin-source', match[1], fail);
}

function absolutePath(name: string, value: string, fail: (problem: string) => KeyConfigError): string {
  if (!isAbsolute(value) || value.split('/').includes('..')) {
    throw fail(`"${name}" must be an absolute path without ".." segments`);
  }
  return value;
}
