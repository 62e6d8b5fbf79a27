import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findWorkspaceRoot } from './workspace-root';

export interface PrivateBundle {
  /** The bundled service, for `SignerProcess`. */
  main: string;
  dir: string;
  remove(): void;
}

/**
 * Bundles the service with the build's own esbuild configuration (`tools/build.mjs`, the one
 * place it is written) into `outfile`. A child process, because the build script is an ES module
 * that Jest's CommonJS runtime cannot import.
 */
export async function bundleSigner(outfile: string, root = findWorkspaceRoot()): Promise<string> {
  await promisify(execFile)(
    process.execPath,
    [join(root, 'tools/build.mjs'), 'signer-api', '--outfile', outfile],
    { cwd: root, timeout: 120_000 },
  );
  return outfile;
}

/**
 * The service bundled into a private folder under tmp/ (npm packages still resolve from the
 * workspace), so a concurrent `nx build` writing dist/ can never hand a test a half-written file.
 */
export async function privateSignerBundle(name: string): Promise<PrivateBundle> {
  const root = findWorkspaceRoot();
  const dir = join(root, 'tmp', `${name}-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  return {
    main: await bundleSigner(join(dir, 'main.js'), root),
    dir,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
