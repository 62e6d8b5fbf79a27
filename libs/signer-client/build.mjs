#!/usr/bin/env node
// Builds the installable package @stella-ops/signer-client into dist/libs/signer-client: one
// CommonJS bundle of the sources (npm dependencies stay external), an ES module entry that
// re-exports it (so `import` and `require` share one copy, and `instanceof SignerProblemError`
// holds in a program that uses both), tsc declarations, the manifest and the README.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const project = dirname(fileURLToPath(import.meta.url));
const root = join(project, '..', '..');
export const OUT_DIR = join(root, 'dist', 'libs', 'signer-client');

rmSync(OUT_DIR, { recursive: true, force: true });
mkdirSync(OUT_DIR, { recursive: true });
await build({
  absWorkingDir: root,
  entryPoints: [join(project, 'src', 'index.ts')],
  outfile: join(OUT_DIR, 'index.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  packages: 'external',
  logLevel: 'warning',
  tsconfig: join(project, 'tsconfig.lib.json'),
});
writeFileSync(
  join(OUT_DIR, 'index.mjs'),
  "// The CommonJS build, re-exported: one copy of every class for import and require alike.\nexport * from './index.js';\n",
);
const tsc = spawnSync(
  process.execPath,
  [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(project, 'tsconfig.lib.json')],
  { cwd: root, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
for (const file of ['package.json', 'README.md']) copyFileSync(join(project, file), join(OUT_DIR, file));
