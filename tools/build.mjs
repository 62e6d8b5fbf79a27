#!/usr/bin/env node
// Bundles an app's TypeScript (workspace libs included, npm packages external) into dist/ with
// esbuild. Nest DI uses explicit @Inject tokens, so no decorator metadata is needed.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ENTRIES = {
  'signer-api': {
    entry: 'apps/signer-api/src/main.ts',
    out: 'dist/apps/signer-api/main.js',
    tsconfig: 'apps/signer-api/tsconfig.json',
  },
  'signer-cli': {
    entry: 'apps/signer-cli/src/main.ts',
    out: 'dist/apps/signer-cli/main.js',
    tsconfig: 'apps/signer-cli/tsconfig.json',
  },
  'api-docs': {
    entry: 'tools/docs/generate.ts',
    out: 'dist/tools/api-docs.js',
    tsconfig: 'tools/docs/tsconfig.json',
  },
  soak: {
    entry: 'tools/soak/src/main.ts',
    out: 'dist/tools/soak.js',
    tsconfig: 'tools/soak/tsconfig.json',
  },
  bench: {
    entry: 'tools/bench/src/main.ts',
    out: 'dist/tools/bench.js',
    tsconfig: 'tools/bench/tsconfig.json',
  },
  'embedded-profile': {
    entry: 'tools/embedded/generate.ts',
    out: 'dist/tools/embedded-profile.js',
    tsconfig: 'tools/embedded/tsconfig.json',
  },
};

/**
 * The one esbuild configuration (the build, `npm start`, the CLI, the soak, the bench and the
 * test launchers all bundle with it): workspace TypeScript bundled, npm packages external, CJS for
 * Node 20. `input` is `{ entryPoints }` or `{ stdin }`; `tsconfig` is relative to the root.
 */
export function bundleOptions({ outfile, tsconfig, ...input }) {
  return {
    absWorkingDir: root,
    ...input,
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
    tsconfig: join(root, tsconfig),
  };
}

/** Bundles entry `name` into its dist/ file, or into `outfile` (a private copy for a harness). */
export async function buildEntry(name, outfile) {
  const target = ENTRIES[name];
  if (!target)
    throw new Error(`unknown build target ${name}; expected one of ${Object.keys(ENTRIES).join(', ')}`);
  await build(
    bundleOptions({ entryPoints: [target.entry], outfile: outfile ?? target.out, tsconfig: target.tsconfig }),
  );
  return outfile ?? join(root, target.out);
}

// `node tools/build.mjs [name…]`, or `node tools/build.mjs name --outfile file` (a harness's copy).
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outfile');
  if (at >= 0) {
    const [name, outfile] = [args[0], args[at + 1]];
    if (at !== 1 || !outfile || args.length !== 3)
      throw new Error('usage: build.mjs <name> --outfile <file>');
    await buildEntry(name, outfile);
  } else for (const name of args.length ? args : Object.keys(ENTRIES)) await buildEntry(name);
}
