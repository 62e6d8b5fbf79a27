import { createPublicKey, type KeyObject } from 'node:crypto';
import type { Template } from 'pkcs11js';
import type { Pkcs11Module } from './pkcs11-module';
import type { Pkcs11Uri } from './pkcs11-uri';

/** The key pair a URI names is missing, ambiguous, or not a signing key this Signer can publish. */
export class Pkcs11ObjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Pkcs11ObjectError';
  }
}

/** `id=<hex> object="<label>"`, for messages (ids are not secret; labels are operator-chosen). */
export function describeObject(uri: Pkcs11Uri): string {
  const parts: string[] = [];
  if (uri.id) parts.push(`id=${uri.id.toString('hex')}`);
  if (uri.object !== undefined) parts.push(`object=${JSON.stringify(uri.object)}`);
  return parts.join(' ');
}

/** The one object of `objectClass` matching the URI's `id` and `object` in `session`. */
export function findKeyObject(
  module: Pkcs11Module,
  session: Buffer,
  uri: Pkcs11Uri,
  objectClass: 'private' | 'public',
): Buffer {
  const { api, lib } = module;
  const template: Template = [
    { type: lib.CKA_CLASS, value: objectClass === 'private' ? lib.CKO_PRIVATE_KEY : lib.CKO_PUBLIC_KEY },
  ];
  if (uri.id) template.push({ type: lib.CKA_ID, value: uri.id });
  if (uri.object !== undefined) template.push({ type: lib.CKA_LABEL, value: uri.object });
  api.C_FindObjectsInit(session, template);
  let found: Buffer[];
  try {
    found = api.C_FindObjects(session, 2);
  } finally {
    api.C_FindObjectsFinal(session);
  }
  if (found.length !== 1) {
    throw new Pkcs11ObjectError(
      `${found.length === 0 ? 'no' : 'more than one'} ${objectClass} key object with ${describeObject(uri)}`,
    );
  }
  return found[0];
}

// DER OIDs as CKA_EC_PARAMS carries them (namedCurve), and the JWK curve name for each.
const CURVES: ReadonlyArray<{ params: string; crv: 'P-256' | 'P-384'; size: number }> = [
  { params: '06082a8648ce3d030107', crv: 'P-256', size: 32 },
  { params: '06052b81040022', crv: 'P-384', size: 48 },
];

/** The public key object's SPKI, built from its attributes (EC: params + point; RSA: n, e). */
export function readPublicKey(module: Pkcs11Module, session: Buffer, handle: Buffer): KeyObject {
  const { api, lib } = module;
  const attribute = (type: number): Buffer => {
    const [{ value }] = api.C_GetAttributeValue(session, handle, [{ type }]);
    if (!Buffer.isBuffer(value)) throw new Pkcs11ObjectError(`attribute 0x${type.toString(16)} has no value`);
    return value;
  };
  const keyType = readUlong(attribute(lib.CKA_KEY_TYPE));
  const b64u = (bytes: Buffer) => bytes.toString('base64url');
  if (keyType === lib.CKK_EC) {
    const params = attribute(lib.CKA_EC_PARAMS).toString('hex');
    const curve = CURVES.find((c) => c.params === params);
    if (!curve)
      throw new Pkcs11ObjectError(`unsupported EC curve (CKA_EC_PARAMS ${params}); expected P-256 or P-384`);
    const point = uncompressedPoint(attribute(lib.CKA_EC_POINT), curve.size);
    const x = point.subarray(1, 1 + curve.size);
    const y = point.subarray(1 + curve.size);
    return createPublicKey({ key: { kty: 'EC', crv: curve.crv, x: b64u(x), y: b64u(y) }, format: 'jwk' });
  }
  if (keyType === lib.CKK_RSA) {
    const n = stripZeros(attribute(lib.CKA_MODULUS));
    const e = stripZeros(attribute(lib.CKA_PUBLIC_EXPONENT));
    return createPublicKey({ key: { kty: 'RSA', n: b64u(n), e: b64u(e) }, format: 'jwk' });
  }
  throw new Pkcs11ObjectError(`unsupported key type ${keyType}; expected CKK_EC or CKK_RSA`);
}

// CK_ULONG in the platform's byte order (little-endian on every platform Node targets here).
function readUlong(value: Buffer): number {
  return value.readUIntLE(0, Math.min(value.length, 6));
}

// CKA_EC_POINT is a DER OCTET STRING around 04||X||Y (PKCS#11 2.40); some modules omit the wrapper.
function uncompressedPoint(value: Buffer, size: number): Buffer {
  const length = 1 + 2 * size;
  if (value.length === length && value[0] === 0x04) return value;
  if (value.length === length + 2 && value[0] === 0x04 && value[1] === length && value[2] === 0x04) {
    return value.subarray(2);
  }
  throw new Pkcs11ObjectError('CKA_EC_POINT is not an uncompressed point on the key curve');
}

function stripZeros(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}

/**
 * CKM_ECDSA answers r||s (IEEE P1363); DSSE and Sigstore verifiers expect ASN.1 DER, as the other
 * KMS backends return: SEQUENCE { INTEGER r, INTEGER s }.
 */
export function p1363ToDer(raw: Buffer): Buffer {
  const half = raw.length / 2;
  const integer = (bytes: Buffer) => {
    let body = stripZeros(bytes);
    if (body[0] & 0x80) body = Buffer.concat([Buffer.from([0]), body]);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const content = Buffer.concat([integer(raw.subarray(0, half)), integer(raw.subarray(half))]);
  const length = content.length < 0x80 ? Buffer.from([content.length]) : Buffer.from([0x81, content.length]);
  return Buffer.concat([Buffer.from([0x30]), length, content]);
}
