import {
  constants,
  createHash,
  privateDecrypt,
  privateEncrypt,
  randomBytes,
  type KeyObject,
} from 'node:crypto';
import { p256, p384 } from '@noble/curves/nist';

/** How a fake KMS signs a digest it was given (it never sees the message). */
export type DigestSignature = 'ecdsa' | 'rsa-pss' | 'rsa-pkcs1';

// DER DigestInfo prefixes (RFC 8017 §9.2 note 1) for the digests a KMS signs.
const DIGEST_INFO: Readonly<Record<number, Buffer>> = {
  32: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  48: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
};

/**
 * Signs an already computed digest the way a KMS does for `MessageType: DIGEST`. node:crypto's
 * `sign` always hashes its input, so ECDSA goes through @noble/curves with `prehash: false` and
 * RSA through the raw key operations: PKCS#1 v1.5 over DigestInfo, and EMSA-PSS (MGF1 with the
 * digest's hash, salt as long as the digest) encoded here.
 */
export function signDigest(privateKey: KeyObject, kind: DigestSignature, digest: Buffer): Buffer {
  switch (kind) {
    case 'ecdsa': {
      const jwk = privateKey.export({ format: 'jwk' });
      const scalar = Buffer.from(jwk.d as string, 'base64url');
      const curve = jwk.crv === 'P-384' ? p384 : jwk.crv === 'P-256' ? p256 : undefined;
      if (!curve) throw new Error(`unsupported curve ${String(jwk.crv)}`);
      return Buffer.from(curve.sign(digest, scalar, { prehash: false }).toDERRawBytes());
    }
    case 'rsa-pkcs1': {
      const prefix = DIGEST_INFO[digest.length];
      if (!prefix) throw new Error(`unsupported digest length ${digest.length}`);
      return privateEncrypt(
        { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
        Buffer.concat([prefix, digest]),
      );
    }
    case 'rsa-pss': {
      const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
      const encoded = emsaPssEncode(digest, bits - 1);
      return privateDecrypt({ key: privateKey, padding: constants.RSA_NO_PADDING }, encoded);
    }
  }
}

const hashName = (length: number) => (length === 48 ? 'sha384' : 'sha256');

function mgf1(seed: Buffer, length: number, hash: string): Buffer {
  const blocks: Buffer[] = [];
  for (let counter = 0; blocks.length * seed.length < length; counter++) {
    const c = Buffer.alloc(4);
    c.writeUInt32BE(counter);
    blocks.push(createHash(hash).update(seed).update(c).digest());
  }
  return Buffer.concat(blocks).subarray(0, length);
}

// RFC 8017 §9.1.1 with sLen = hLen; the result is as long as the modulus (leading zero byte when
// emBits is a multiple of 8 less one, as for 2048/3072/4096-bit keys).
function emsaPssEncode(mHash: Buffer, emBits: number): Buffer {
  const hash = hashName(mHash.length);
  const hLen = mHash.length;
  const emLen = Math.ceil(emBits / 8);
  const salt = randomBytes(hLen);
  const h = createHash(hash).update(Buffer.alloc(8)).update(mHash).update(salt).digest();
  const db = Buffer.concat([Buffer.alloc(emLen - 2 * hLen - 2), Buffer.from([0x01]), salt]);
  const mask = mgf1(h, db.length, hash);
  const masked = Buffer.from(db.map((byte, i) => byte ^ mask[i]));
  masked[0] &= 0xff >> (8 * emLen - emBits);
  const em = Buffer.concat([masked, h, Buffer.from([0xbc])]);
  const modulusBytes = Math.ceil((emBits + 1) / 8);
  return Buffer.concat([Buffer.alloc(modulusBytes - em.length), em]);
}
