// Runs a workspace harness (the bench, the soak) against a bundled service: both are bundled into
// a private folder under tmp/ (a concurrent build writing dist/ cannot hand it a half-written
// file), the harness runs in a child process, and the folder is removed afterwards.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildEntry } from './build.mjs';

export const root = join(import.meta.dirname, '..');

/**
 * Bundles `signer-api` and the build entry `harness`, then runs the harness with the environment
 * `env(signerBundle)` adds; signals are forwarded to it. Resolves with its exit code.
 */
export async function runHarness({ harness, env }) {
  const dir = join(root, 'tmp', `${harness}-${randomUUID()}`);
  mkdirSync(dir, { recursive: true });
  let child;
  const forward = (signal) => child?.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const signerBundle = await buildEntry('signer-api', join(dir, 'signer-api', 'main.js'));
    const script = await buildEntry(harness, join(dir, `${harness}.js`));
    child = spawn(process.execPath, ['--enable-source-maps', script], {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, ...env(signerBundle) },
    });
    return await new Promise((resolve) => child.once('exit', (status) => resolve(status ?? 1)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
