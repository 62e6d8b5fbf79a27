import { createReadStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import {
  GENESIS_HASH,
  SignerError,
  verifyAuditChain,
  type ChainCheck,
  type ChainedAuditRecord,
} from '@signer/core';

/** Records are a few KiB; a "line" longer than this is garbage, not a record worth reading into memory. */
export const MAX_AUDIT_LINE_BYTES = 1024 * 1024;
const TAIL_CHUNK_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

export function auditFileError(message: string, cause?: unknown): SignerError {
  return new SignerError('upstream_unavailable', message, { upstream: 'audit', cause });
}

/**
 * Only the chain fields are checked here: every other field is covered by `hash`, which
 * {@link verifyAuditChain} recomputes, so a record with a forged shape fails there.
 */
function hasChainFields(value: unknown): value is ChainedAuditRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { prevHash, hash } = value as { prevHash?: unknown; hash?: unknown };
  return typeof prevHash === 'string' && typeof hash === 'string';
}

/** One stored line as a record, or why it is not one. */
export function parseAuditLine(line: string): ChainedAuditRecord | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { problem: 'expected a JSON object, got unparsable text' };
  }
  return hasChainFields(value) ? value : { problem: 'expected prevHash and hash strings, got none' };
}

/** The raw lines of an audit file, streamed. */
export async function* readAuditLines(path: string): AsyncGenerator<string> {
  const input = createReadStream(path, { encoding: 'utf8' });
  try {
    yield* createInterface({ input, crlfDelay: Infinity });
  } finally {
    input.destroy();
  }
}

/** Streams the records of an audit file in order; a line that is not a record is an error naming it. */
export async function* readAuditFile(path: string): AsyncGenerator<ChainedAuditRecord> {
  let lineNumber = 0;
  for await (const line of readAuditLines(path)) {
    lineNumber += 1;
    const parsed = parseAuditLine(line);
    if ('problem' in parsed)
      throw auditFileError(`audit file ${path}, line ${lineNumber}: ${parsed.problem}`);
    yield parsed;
  }
}

/** Verifies a whole audit file without holding it in memory; reports the first broken record. */
export async function verifyAuditFile(path: string): Promise<ChainCheck> {
  let expectedPrev = GENESIS_HASH;
  let index = 0;
  for await (const line of readAuditLines(path)) {
    const parsed = parseAuditLine(line);
    if ('problem' in parsed) return { ok: false, index, reason: parsed.problem };
    const check = verifyAuditChain([parsed], expectedPrev);
    if (!check.ok) return { ok: false, index, reason: check.reason };
    expectedPrev = check.lastHash;
    index += 1;
  }
  return { ok: true, count: index, lastHash: expectedPrev };
}

async function readAt(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let offset = 0;
  while (offset < buffer.length) {
    const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, position + offset);
    if (bytesRead === 0) throw new Error(`unexpected end of file at byte ${position + offset}`);
    offset += bytesRead;
  }
}

/**
 * The last record of a file of `size` bytes, read backwards so that resuming a long trail costs
 * one record, not the file. A file that does not end with a newline was torn mid-write.
 */
export async function readLastRecord(
  handle: FileHandle,
  size: number,
  path: string,
): Promise<ChainedAuditRecord | undefined> {
  if (size === 0) return undefined;
  let tail = Buffer.alloc(0);
  let position = size;
  for (;;) {
    const start = Math.max(0, position - TAIL_CHUNK_BYTES);
    const chunk = Buffer.alloc(position - start);
    await readAt(handle, chunk, start);
    tail = Buffer.concat([chunk, tail]);
    position = start;
    if (tail[tail.length - 1] !== NEWLINE) {
      throw auditFileError(
        `audit file ${path} is corrupt at its tail: expected a final newline, got a torn line`,
      );
    }
    const previousNewline = tail.length < 2 ? -1 : tail.lastIndexOf(NEWLINE, tail.length - 2);
    if (previousNewline >= 0 || position === 0) {
      return lastRecordOf(tail.subarray(previousNewline + 1, tail.length - 1).toString('utf8'), path);
    }
    if (tail.length > MAX_AUDIT_LINE_BYTES) {
      throw auditFileError(
        `audit file ${path} is corrupt at its tail: expected a record, got over ${MAX_AUDIT_LINE_BYTES} bytes without a newline`,
      );
    }
  }
}

function lastRecordOf(line: string, path: string): ChainedAuditRecord {
  const parsed = parseAuditLine(line);
  if ('problem' in parsed)
    throw auditFileError(`audit file ${path} is corrupt at its tail: ${parsed.problem}`);
  // Chaining onto a record whose own hash is wrong would extend a trail that is already broken.
  const check = verifyAuditChain([parsed], parsed.prevHash);
  if (!check.ok) throw auditFileError(`audit file ${path} is corrupt at its tail: ${check.reason}`);
  return parsed;
}
