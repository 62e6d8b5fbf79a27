import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  SignerError,
  type Ceremony,
  type CeremonyPrincipal,
  type CeremonyStatus,
  type CeremonyStore,
} from '@signer/core';
import { CeremonyTable } from './ceremony-table';

export interface FileCeremonyStoreOptions {
  path: string;
  maxEntries?: number;
}

interface CeremonyFile {
  version: 1;
  ceremonies: Ceremony[];
}

const storeError = (message: string, cause?: unknown) =>
  new SignerError('upstream_unavailable', message, { upstream: 'state', cause, retryAfterSeconds: 1 });

/**
 * {@link CeremonyStore} in one JSON file, for the embedded profile (one process owns the file).
 * Every change rewrites the whole file — written to a temporary file, fsync'd, renamed over the
 * old one, directory fsync'd — so a crash leaves either the old or the new document, never half.
 * Changes are serialised in the process; a change is visible only once it is on disk.
 */
export class FileCeremonyStore implements CeremonyStore {
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly path: string,
    private readonly table: CeremonyTable,
  ) {}

  static async open(options: FileCeremonyStoreOptions): Promise<FileCeremonyStore> {
    let ceremonies: Ceremony[] = [];
    try {
      const parsed = JSON.parse(await readFile(options.path, 'utf8')) as Partial<CeremonyFile>;
      if (parsed.version !== 1 || !Array.isArray(parsed.ceremonies))
        throw new Error('expected {"version":1,"ceremonies":[...]}');
      ceremonies = parsed.ceremonies;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT')
        throw new SignerError('internal_error', `ceremony file ${options.path}: unreadable`, {
          cause: error,
        });
      await mkdir(dirname(options.path), { recursive: true });
    }
    return new FileCeremonyStore(options.path, CeremonyTable.from(ceremonies, options.maxEntries));
  }

  async get(id: string): Promise<Ceremony | undefined> {
    return this.table.get(id);
  }

  async list(options: { status?: CeremonyStatus; limit: number }): Promise<Ceremony[]> {
    return this.table.list(options);
  }

  async countOpen(initiator: CeremonyPrincipal, now: string, atMost: number): Promise<number> {
    return this.table.countOpen(initiator, now, atMost);
  }

  compareAndSet(expectedRevision: number, next: Ceremony): Promise<boolean> {
    const run = this.queue.then(async () => {
      const commit = this.table.check(expectedRevision, next);
      if (commit === undefined) return false;
      const draft = this.table.clone();
      draft.compareAndSet(expectedRevision, next);
      await this.write({ version: 1, ceremonies: draft.all() });
      commit();
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
  }

  private async write(document: CeremonyFile): Promise<void> {
    const temporary = `${this.path}.${process.pid}.tmp`;
    try {
      const file = await open(temporary, 'w', 0o600);
      try {
        await file.writeFile(JSON.stringify(document));
        await file.sync();
      } finally {
        await file.close();
      }
      await rename(temporary, this.path);
      const directory = await open(dirname(this.path), 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    } catch (error) {
      throw storeError(`cannot write the ceremony file ${this.path}`, error);
    }
  }
}
