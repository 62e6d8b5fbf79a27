#!/usr/bin/env node
// `npm test`: the whole suite, as CI runs it. Lint (zero warnings), typecheck, every project's Jest
// tests and the builds through Nx, then the Prettier check, then Knip (dead code and dependencies),
// then one summary line.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ensureServices } from './services.mjs';

const root = join(import.meta.dirname, '..');
const env = { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', NX_TUI: 'false', FORCE_COLOR: '0' };
const resultsDir = join(root, 'tmp', 'jest');
rmSync(resultsDir, { recursive: true, force: true });

function run(label, command, args) {
  console.log(`\n=== ${label}: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, env, stdio: 'inherit' });
  return result.status === 0;
}

await ensureServices();

const nx = join(root, 'node_modules', '.bin', 'nx');
const steps = [
  run('nx', nx, [
    'run-many',
    '--targets=lint,typecheck,test,build',
    '--parallel=2',
    '--outputStyle=static',
    '--skipNxCache',
  ]),
  run('format', join(root, 'node_modules', '.bin', 'prettier'), ['--check', '--log-level', 'warn', '.']),
  // Unused dependencies, exports and files (knip.jsonc says what counts as used).
  run('knip', join(root, 'node_modules', '.bin', 'knip'), ['--no-progress']),
];

let passed = 0;
let failed = 0;
if (existsSync(resultsDir)) {
  for (const file of readdirSync(resultsDir)) {
    const report = JSON.parse(readFileSync(join(resultsDir, file), 'utf8'));
    passed += report.numPassedTests;
    failed += report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0);
  }
}
const ok = steps.every(Boolean) && failed === 0 && passed > 0;
console.log(`\nsteps: ${steps.filter(Boolean).length} of ${steps.length} green`);
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(ok ? 0 : 1);
