import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** The X.509 extension that carries embedded SCTs (RFC 6962 §3.3). */
export const OID_SCT_LIST = '1.3.6.1.4.1.11129.2.4.2';

const u16 = (n: number) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const u24 = (n: number) => Buffer.from([(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff]);
const u64 = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
};

/**
 * A Certificate Transparency log that only signs: it issues RFC 6962 v1 SCTs for precertificates
 * (ECDSA P-256, SHA-256), so a Fulcio leaf can embed a real, verifiable SCT.
 */
export class TestCtLog {
  readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject;
  /** SHA-256 of the log's SPKI: the SCT `log_id` and the trust root's `logId.keyId`. */
  readonly logId: Buffer;

  constructor() {
    ({ publicKey: this.publicKey, privateKey: this.privateKey } = generateKeyPairSync('ec', {
      namedCurve: 'P-256',
    }));
    this.logId = createHash('sha256').update(this.spkiDer()).digest();
  }

  spkiDer(): Buffer {
    return this.publicKey.export({ type: 'spki', format: 'der' });
  }

  /**
   * An SCT over the precertificate entry: `issuerSpkiDer` is the issuing CA's key, `tbsDer` the
   * leaf's TBSCertificate without the SCT extension. Returns the serialized SCT.
   */
  sign(issuerSpkiDer: Buffer, tbsDer: Buffer, timestampMs: number): Buffer {
    const timestamp = u64(timestampMs);
    const signed = Buffer.concat([
      Buffer.from([0, 0]), // version v1, signature_type certificate_timestamp
      timestamp,
      u16(1), // entry_type precert_entry
      createHash('sha256').update(issuerSpkiDer).digest(),
      u24(tbsDer.length),
      tbsDer,
      u16(0), // no extensions
    ]);
    const signature = sign('sha256', signed, this.privateKey);
    return Buffer.concat([
      Buffer.from([0]),
      this.logId,
      timestamp,
      u16(0),
      Buffer.from([4, 3]), // sha256, ecdsa
      u16(signature.length),
      signature,
    ]);
  }
}

/** The extnValue of the SCT list extension: an OCTET STRING holding the TLS-encoded list. */
export function sctListExtensionValue(scts: Buffer[]): Buffer {
  const items = Buffer.concat(scts.map((sct) => Buffer.concat([u16(sct.length), sct])));
  const list = Buffer.concat([u16(items.length), items]);
  return Buffer.concat([derOctetStringHeader(list.length), list]);
}

function derOctetStringHeader(length: number): Buffer {
  if (length < 0x80) return Buffer.from([0x04, length]);
  if (length < 0x100) return Buffer.from([0x04, 0x81, length]);
  return Buffer.from([0x04, 0x82, (length >> 8) & 0xff, length & 0xff]);
}
