/**
 * CRC-32C computed bit by bit, straight from the definition (reflected polynomial 0x82F63B78):
 * deliberately not the Signer's table-driven code, so the fake checks it independently.
 */
export function crc32cReference(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
