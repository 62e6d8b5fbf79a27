#!/usr/bin/env node
// `npm run cli -- <command> …`: builds apps/signer-cli with esbuild and runs it with the remaining
// arguments, passing its exit code through. npm runs scripts from the workspace root; the CLI runs
// in the directory the user called npm from (INIT_CWD) so file arguments resolve as typed, and its
// default profile stays the workspace's `.signer-dev` unless SIGNER_PROFILE says otherwise.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { buildEntry } from './build.mjs';

const root = join(import.meta.dirname, '..');
const main = await buildEntry('signer-cli');
const env = { ...process.env, SIGNER_PROFILE: process.env.SIGNER_PROFILE ?? join(root, '.signer-dev') };
const child = spawn(process.execPath, ['--enable-source-maps', main, ...process.argv.slice(2)], {
  stdio: 'inherit',
  cwd: process.env.INIT_CWD ?? process.cwd(),
  env,
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
