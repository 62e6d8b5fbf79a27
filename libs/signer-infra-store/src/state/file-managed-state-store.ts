import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ManagedState, ManagedStateStore } from '@signer/core';
import { parseManagedState, stateStoreError } from './state-errors';

export interface FileManagedStateStoreOptions {
  filePath: string;
  /** The state names keys and references: readable by the service account only. */
  fileMode?: number;
}

export const DEFAULT_STATE_FILE_MODE = 0o600;

/**
 * The managed state as one JSON file (embedded profile): survives restarts, serves one process.
 * A write goes to a temporary file, is fsynced, renamed over the old one and the directory is
 * fsynced, so a crash leaves either the old or the new document, never half of one.
 * Compare-and-set is serialised inside this process; two processes must not share the file.
 */
export class FileManagedStateStore implements ManagedStateStore {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: FileManagedStateStoreOptions) {}

  async load(): Promise<ManagedState | undefined> {
    let text: string;
    try {
      text = await readFile(this.options.filePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw stateStoreError(`cannot read the managed state file ${this.options.filePath}`, error);
    }
    return parseManagedState<ManagedState>(text, this.options.filePath);
  }

  compareAndSet(expectedVersion: number, next: ManagedState): Promise<boolean> {
    const run = this.queue.then(async () => {
      const current = await this.load();
      if ((current?.version ?? 0) !== expectedVersion) return false;
      await this.write(next);
      return true;
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
  }

  private async write(state: ManagedState): Promise<void> {
    const { filePath } = this.options;
    const dir = dirname(filePath);
    const temp = join(dir, `.${process.pid}.${Date.now()}.state.tmp`);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const handle = await open(temp, 'w', this.options.fileMode ?? DEFAULT_STATE_FILE_MODE);
      try {
        await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, filePath);
      const directory = await open(dir, 'r');
      try {
        await directory.sync();
      } finally {
        await directory.close();
      }
    } catch (error) {
      throw stateStoreError(`cannot write the managed state file ${filePath}`, error);
    }
  }
}
