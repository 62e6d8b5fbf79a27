import { mkdir, open as fsOpen, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GENESIS_HASH, SignerError, chainAuditRecord, type AuditRecord, type AuditSink } from '@signer/core';
import { requirePositiveInteger } from '../options';
import { auditFileError, readLastRecord } from './audit-file';

/** The trail names callers and licences: readable by the service account only. */
export const DEFAULT_AUDIT_FILE_MODE = 0o600;
export const DEFAULT_AUDIT_DIR_MODE = 0o700;
/** Caps one write so a backlog cannot build a single unbounded buffer. */
export const DEFAULT_AUDIT_MAX_BATCH_RECORDS = 1024;

export type OpenAuditFile = (path: string, flags: string, mode: number) => Promise<FileHandle>;

export interface FileAuditSinkOptions {
  filePath: string;
  fileMode?: number;
  /** Mode of the parent directories this sink creates. */
  dirMode?: number;
  maxBatchRecords?: number;
  /** How the file is opened; a seam for tests that observe or fail writes and syncs. */
  open?: OpenAuditFile;
}

interface Pending {
  record: AuditRecord;
  resolve(): void;
  reject(error: SignerError): void;
}

interface SinkState {
  handle: FileHandle;
  lastHash: string;
  durableBytes: number;
  maxBatchRecords: number;
}

/**
 * Append-only JSON-lines {@link AuditSink} with group commit: appends that arrive while a write
 * is in flight are chained and written together with one `fdatasync`, so durability costs one
 * sync per batch rather than per request. One sink (one process) per file: the chain lives in
 * this object, and a second writer would fork it.
 */
export class FileAuditSink implements AuditSink {
  private readonly handle: FileHandle;
  private readonly maxBatchRecords: number;
  private lastHash: string;
  /** File length covered by a successful sync; everything after it is unacknowledged. */
  private durableBytes: number;
  private readonly queue: Pending[] = [];
  private writer: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Set when the file could not be restored to its last synced length: nothing more may be appended. */
  private broken: SignerError | undefined;

  static async open(options: FileAuditSinkOptions): Promise<FileAuditSink> {
    const { filePath } = options;
    const maxBatchRecords = requirePositiveInteger(
      'maxBatchRecords',
      options.maxBatchRecords ?? DEFAULT_AUDIT_MAX_BATCH_RECORDS,
    );
    const openFile = options.open ?? fsOpen;
    let handle: FileHandle;
    try {
      await mkdir(dirname(filePath), { recursive: true, mode: options.dirMode ?? DEFAULT_AUDIT_DIR_MODE });
      handle = await openFile(filePath, 'a+', options.fileMode ?? DEFAULT_AUDIT_FILE_MODE);
    } catch (cause) {
      throw auditFileError(`cannot open audit file ${filePath}`, cause);
    }
    try {
      const { size } = await handle.stat();
      const last = await readLastRecord(handle, size, filePath);
      // A new file's directory entry must be durable too, or a crash could lose the whole trail.
      if (size === 0) await syncDirectory(dirname(filePath));
      return new FileAuditSink({
        handle,
        lastHash: last?.hash ?? GENESIS_HASH,
        durableBytes: size,
        maxBatchRecords,
      });
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error instanceof SignerError
        ? error
        : auditFileError(`cannot open audit file ${filePath}`, error);
    }
  }

  private constructor(state: SinkState) {
    this.handle = state.handle;
    this.lastHash = state.lastHash;
    this.durableBytes = state.durableBytes;
    this.maxBatchRecords = state.maxBatchRecords;
  }

  append(record: AuditRecord): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(auditFileError('audit sink is closed'));
    if (this.broken !== undefined) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, resolve, reject });
      this.schedule();
    });
  }

  /** Waits for every accepted append to settle, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      while (this.writer !== undefined) await this.writer;
      try {
        await this.handle.close();
      } catch (cause) {
        throw auditFileError('cannot close audit file', cause);
      }
    })();
    return this.closing;
  }

  private schedule(): void {
    if (this.writer !== undefined) return;
    // Starting on a microtask lets appends issued in the same tick join the first batch.
    this.writer = Promise.resolve()
      .then(() => this.drain())
      .finally(() => {
        this.writer = undefined;
        if (this.queue.length > 0) this.schedule();
      });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      await this.commit(this.queue.splice(0, this.maxBatchRecords));
    }
  }

  private async commit(batch: Pending[]): Promise<void> {
    if (this.broken !== undefined) return rejectAll(batch, this.broken);
    let prevHash = this.lastHash;
    const lines: string[] = [];
    const members: Pending[] = [];
    for (const pending of batch) {
      try {
        const chained = chainAuditRecord(pending.record, prevHash);
        lines.push(`${JSON.stringify(chained)}\n`);
        prevHash = chained.hash;
        members.push(pending);
      } catch (cause) {
        // One unserialisable record (a caller bug) must not sink the others of its batch.
        pending.reject(new SignerError('internal_error', 'audit record cannot be serialised', { cause }));
      }
    }
    if (members.length === 0) return undefined;
    const bytes = Buffer.from(lines.join(''), 'utf8');
    try {
      await writeFully(this.handle, bytes);
      await this.handle.datasync();
    } catch (cause) {
      const error = auditFileError('audit write failed', cause);
      await this.rollback(error);
      return rejectAll([...members, ...this.queue.splice(0)], error);
    }
    this.lastHash = prevHash;
    this.durableBytes += bytes.length;
    for (const pending of members) pending.resolve();
    return undefined;
  }

  /**
   * Cuts what a failed batch may have left (a torn line, or lines whose sync failed) so the file
   * ends on its last durable record and the next batch chains onto it. If even that fails the
   * file's end is unknown, and appending could break the chain: the sink refuses from then on.
   */
  private async rollback(error: SignerError): Promise<void> {
    try {
      await this.handle.truncate(this.durableBytes);
    } catch (cause) {
      this.broken = auditFileError(
        'audit file could not be restored after a failed write',
        new AggregateError([error, cause]),
      );
    }
  }
}

async function writeFully(handle: FileHandle, bytes: Buffer): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset);
    offset += bytesWritten;
  }
}

async function syncDirectory(path: string): Promise<void> {
  const directory = await fsOpen(path, 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

function rejectAll(batch: Pending[], error: SignerError): undefined {
  for (const pending of batch) pending.reject(error);
  return undefined;
}
