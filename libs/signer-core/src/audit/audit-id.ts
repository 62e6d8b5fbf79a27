import { randomFillSync } from 'node:crypto';

/** Random bytes of a UUIDv7 after its 48-bit timestamp (the version and variant bits are overwritten). */
const RANDOM_BYTES = 10;
/**
 * Random bytes are drawn 256 ids at a time, as `crypto.randomUUID()` does: one `randomBytes` call per
 * id costs more than the rest of the id. Each byte of the pool is handed out once.
 */
const pool = Buffer.alloc(256 * RANDOM_BYTES);
let poolOffset = pool.length;

/**
 * A UUIDv7 (RFC 9562): time-ordered, so audit ids sort by decision time; the random part only
 * makes ids unique across replicas and is never part of any signed content.
 */
export function newAuditId(now: Date): string {
  if (poolOffset === pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const bytes = Buffer.allocUnsafe(16);
  // 48-bit big-endian Unix milliseconds (RFC 9562 §5.7): enough until the year 10889.
  bytes.writeUIntBE(now.getTime(), 0, 6);
  pool.copy(bytes, 6, poolOffset, poolOffset + RANDOM_BYTES);
  poolOffset += RANDOM_BYTES;
  bytes[6] = (bytes[6] & 0x0f) | 0x70;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
