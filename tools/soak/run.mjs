#!/usr/bin/env node
// `npm run soak`: bundles the service and the soak harness into a private folder under tmp/ (a
// concurrent build writing dist/ cannot hand it a half-written file), then runs the harness.
// Settings by environment (SOAK_SECONDS, SOAK_FAULT_SECONDS, SOAK_TENANTS, …: docs/performance.md);
// exits 1 when a check fails.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildEntry } from '../build.mjs';
import { ensureServices } from '../services.mjs';

const root = join(import.meta.dirname, '..', '..');
const dir = join(root, 'tmp', `soak-${randomUUID()}`);
mkdirSync(dir, { recursive: true });
let child;
const forward = (signal) => child?.kill(signal);
process.on('SIGINT', forward);
process.on('SIGTERM', forward);
let code = 1;
try {
  await ensureServices();
  const [signerBundle, harness] = [
    await buildEntry('signer-api', join(dir, 'signer-api', 'main.js')),
    await buildEntry('soak', join(dir, 'soak.js')),
  ];
  child = spawn(process.execPath, ['--enable-source-maps', harness], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, SOAK_ROOT: root, SOAK_SIGNER_BUNDLE: signerBundle },
  });
  code = await new Promise((resolve) => child.once('exit', (status) => resolve(status ?? 1)));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
