import { hasControlCharacters } from '../audit/bounded-text';
import { SignerError } from '../errors';
import { canonicalPublicKeyPem, FINGERPRINT_PATTERN, spkiFingerprint } from '../keys/key-fingerprint';
import { CEREMONY_OPERATION_KINDS, type CeremonyOperation, type CeremonyOperationKind } from './ceremony';

/** Key labels, rotation profiles and plans: the configuration's name pattern, bounded. */
export const CEREMONY_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;
/** Key references a ceremony may register (resolved when executed). */
export const CEREMONY_KEY_REF_PATTERN = /^(file|awskms|gcpkms|pkcs11):[\x21-\x7e]{1,1017}$/;
export const CEREMONY_REASON_MAX_LENGTH = 512;
export const CEREMONY_LABEL_MAX_LENGTH = 128;
/** A PEM public key: an Ed25519 SPKI is ~113 characters, an RSA-8192 one ~1.4 k; 16 KiB bounds the parse. */
export const CEREMONY_PEM_MIN_LENGTH = 64;
export const CEREMONY_PEM_MAX_LENGTH = 16_384;
const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;
const FIELDS: Readonly<Record<CeremonyOperationKind, readonly string[]>> = {
  'key.register': ['kind', 'name', 'ref', 'profile', 'validFrom', 'validUntil'],
  'key.activate': ['kind', 'name'],
  'key.retire': ['kind', 'name'],
  'key.revoke': ['kind', 'name', 'reason'],
  'key.set-default': ['kind', 'name', 'plan'],
  'trust-anchor.add': ['kind', 'publicKeyPem', 'label'],
  'trust-anchor.remove': ['kind', 'keyId'],
};

const invalid = (message: string) => new SignerError('invalid_request', `operation.${message}`);

type Fields = Record<string, unknown>;

function text(fields: Fields, name: string, check: (value: string) => boolean, expected: string): string {
  const value = fields[name];
  if (typeof value !== 'string' || !check(value)) throw invalid(`${name}: expected ${expected}`);
  return value;
}

function optional<T>(fields: Fields, name: string, read: () => T): { [key: string]: T } {
  return fields[name] === undefined ? {} : { [name]: read() };
}

const named = (fields: Fields, name = 'name') =>
  text(fields, name, (v) => CEREMONY_NAME_PATTERN.test(v), 'a name matching [A-Za-z0-9_.-]{1,64}');

const freeText = (fields: Fields, name: string, max: number) =>
  text(
    fields,
    name,
    (v) => v.trim().length > 0 && v.length <= max && !hasControlCharacters(v),
    `1–${max} characters without control characters`,
  );

const instant = (fields: Fields, name: string) =>
  text(fields, name, (v) => RFC3339_UTC.test(v) && !Number.isNaN(Date.parse(v)), 'an RFC 3339 UTC time');

function publicKeyPem(fields: Fields): string {
  const pem = text(
    fields,
    'publicKeyPem',
    // Line breaks are PEM's own; any other control character (a NUL that OpenSSL ignores after the
    // END line, say) would be stored as given.
    (v) =>
      v.length >= CEREMONY_PEM_MIN_LENGTH &&
      v.length <= CEREMONY_PEM_MAX_LENGTH &&
      !hasControlCharacters(v.replace(/\r?\n/g, '')),
    `a PEM public key of ${CEREMONY_PEM_MIN_LENGTH}–${CEREMONY_PEM_MAX_LENGTH} characters, no control characters but line breaks`,
  );
  try {
    canonicalPublicKeyPem(pem);
  } catch (cause) {
    throw new SignerError('invalid_request', 'operation.publicKeyPem: expected a PEM public key (SPKI)', {
      cause,
    });
  }
  return pem;
}

/**
 * A caller's operation, checked field by field (shapes, name patterns, PEM and text bounds) and
 * copied with only its known fields. Refusals are `invalid_request` naming the field.
 */
export function parseCeremonyOperation(value: unknown): CeremonyOperation {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('kind: expected an object with a kind');
  const fields = value as Fields;
  const kind = fields['kind'];
  if (typeof kind !== 'string' || !(CEREMONY_OPERATION_KINDS as readonly string[]).includes(kind))
    throw invalid(`kind: expected one of ${CEREMONY_OPERATION_KINDS.join(', ')}`);
  const known = FIELDS[kind as CeremonyOperationKind];
  const unknown = Object.keys(fields).find((name) => !known.includes(name));
  if (unknown !== undefined) throw invalid(`${unknown.slice(0, 64)}: unknown field`);
  switch (kind as CeremonyOperationKind) {
    case 'key.register': {
      const op: Extract<CeremonyOperation, { kind: 'key.register' }> = {
        kind: 'key.register',
        name: named(fields),
        ref: text(
          fields,
          'ref',
          (v) => CEREMONY_KEY_REF_PATTERN.test(v),
          'a file:, awskms:, gcpkms: or pkcs11: reference',
        ),
        ...optional(fields, 'profile', () => named(fields, 'profile')),
        ...optional(fields, 'validFrom', () => instant(fields, 'validFrom')),
        ...optional(fields, 'validUntil', () => instant(fields, 'validUntil')),
      };
      if (
        op.validFrom !== undefined &&
        op.validUntil !== undefined &&
        Date.parse(op.validUntil) <= Date.parse(op.validFrom)
      )
        throw invalid('validUntil: expected a time after validFrom');
      return op;
    }
    case 'key.activate':
      return { kind: 'key.activate', name: named(fields) };
    case 'key.retire':
      return { kind: 'key.retire', name: named(fields) };
    case 'key.revoke':
      return {
        kind: 'key.revoke',
        name: named(fields),
        reason: freeText(fields, 'reason', CEREMONY_REASON_MAX_LENGTH),
      };
    case 'key.set-default':
      return {
        kind: 'key.set-default',
        name: named(fields),
        ...optional(fields, 'plan', () => named(fields, 'plan')),
      };
    case 'trust-anchor.add':
      return {
        kind: 'trust-anchor.add',
        publicKeyPem: publicKeyPem(fields),
        ...optional(fields, 'label', () => freeText(fields, 'label', CEREMONY_LABEL_MAX_LENGTH)),
      };
    case 'trust-anchor.remove':
      return {
        kind: 'trust-anchor.remove',
        keyId: text(fields, 'keyId', (v) => FINGERPRINT_PATTERN.test(v), 'sha256:<64 lowercase hex>'),
      };
  }
}

/** What the operation changes, for the audit record: the key name or the anchor's keyId. */
export function ceremonyTarget(operation: CeremonyOperation): string {
  switch (operation.kind) {
    case 'trust-anchor.add':
      return spkiFingerprint(operation.publicKeyPem);
    case 'trust-anchor.remove':
      return operation.keyId;
    default:
      return operation.name;
  }
}

/** A rejection's reason: 1–512 characters without control characters. */
export function parseVoteReason(value: unknown): string {
  const max = CEREMONY_REASON_MAX_LENGTH;
  if (
    typeof value !== 'string' ||
    value.trim().length === 0 ||
    value.length > max ||
    hasControlCharacters(value)
  )
    throw new SignerError(
      'invalid_request',
      `reason: expected 1–${max} characters without control characters`,
    );
  return value;
}
