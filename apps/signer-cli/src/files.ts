import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { CliError, type CliIo } from './cli-io';

/** A file named by an option; the error names the option and the errno, never the content. */
export function readOptionFile(io: CliIo, option: string, path: string): string {
  try {
    return readFileSync(resolve(io.cwd, path), 'utf8');
  } catch (error) {
    throw new CliError(
      `${option} ${path}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
}

export interface Artifact {
  name: string;
  size: number;
  sha256: string;
}

// Streamed, so the artifact may be far larger than anything the Signer itself receives.
export async function describeArtifact(file: string): Promise<Artifact> {
  let size: number;
  try {
    const stats = statSync(file);
    if (!stats.isFile()) throw new CliError(`${file}: not a regular file`);
    size = stats.size;
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return { name: basename(file), size, sha256: hash.digest('hex') };
}
