import { mkdir, open as fsOpen, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { GENESIS_HASH, SignerError, chainAuditLine, type AuditRecord, type AuditSink } from '@signer/core';
import { DEFAULT_AUDIT_BATCH_DELAY_MS, GroupCommit, requireBatchDelayMs } from '../audit/group-commit';
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
  /** Under concurrent load, how long a batch may wait for more records (see GroupCommit). */
  batchDelayMs?: number;
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
  batchDelayMs: number;
}

/**
 * Append-only JSON-lines {@link AuditSink} with group commit: appends that arrive while a write
 * is in flight are chained and written together with one `fdatasync`, so durability costs one
 * sync per batch rather than per request. One sink (one process) per file: the chain lives in
 * this object, and a second writer would fork it.
 */
export class FileAuditSink implements AuditSink {
  private readonly handle: FileHandle;
  private lastHash: string;
  /** File length covered by a successful sync; everything after it is unacknowledged. */
  private durableBytes: number;
  private readonly batches: GroupCommit<Pending>;
  private closing: Promise<void> | undefined;
  /** Set when the file could not be restored to its last synced length: nothing more may be appended. */
  private broken: SignerError | undefined;

  static async open(options: FileAuditSinkOptions): Promise<FileAuditSink> {
    const { filePath } = options;
    // Validated before anything is created on disk.
    const maxBatchRecords = requirePositiveInteger(
      'maxBatchRecords',
      options.maxBatchRecords ?? DEFAULT_AUDIT_MAX_BATCH_RECORDS,
    );
    const batchDelayMs = requireBatchDelayMs(options.batchDelayMs ?? DEFAULT_AUDIT_BATCH_DELAY_MS);
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
        batchDelayMs,
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
    this.batches = new GroupCommit<Pending>({
      maxBatch: state.maxBatchRecords,
      maxDelayMs: state.batchDelayMs,
      commit: (batch) => this.commit(batch),
    });
  }

  append(record: AuditRecord): Promise<void> {
    if (this.closing !== undefined) return Promise.reject(auditFileError('audit sink is closed'));
    if (this.broken !== undefined) return Promise.reject(this.broken);
    return new Promise<void>((resolve, reject) => this.batches.push({ record, resolve, reject }));
  }

  /** Waits for every accepted append to settle, then closes the file. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.batches.settled();
      try {
        await this.handle.close();
      } catch (cause) {
        throw auditFileError('cannot close audit file', cause);
      }
    })();
    return this.closing;
  }

  private async commit(batch: Pending[]): Promise<void> {
    if (this.broken !== undefined) return rejectAll(batch, this.broken);
    let prevHash = this.lastHash;
    let text = '';
    const members: Pending[] = [];
    for (const pending of batch) {
      try {
        const chained = chainAuditLine(pending.record, prevHash);
        text += `${chained.line}\n`;
        prevHash = chained.hash;
        members.push(pending);
      } catch (cause) {
        // One unserialisable record (a caller bug) must not sink the others of its batch.
        pending.reject(new SignerError('internal_error', 'audit record cannot be serialised', { cause }));
      }
    }
    if (members.length === 0) return undefined;
    const bytes = Buffer.from(text, 'utf8');
    try {
      await writeFully(this.handle, bytes);
      await this.handle.datasync();
    } catch (cause) {
      const error = auditFileError('audit write failed', cause);
      await this.rollback(error);
      return rejectAll([...members, ...this.batches.takeQueued()], error);
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
