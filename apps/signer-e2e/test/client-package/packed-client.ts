import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The package as built by `signer-client:build` (this project's `test` depends on it). */
export const CLIENT_PACKAGE_DIR = join(__dirname, '../../../../dist/libs/signer-client');
export const CLIENT_PACKAGE_NAME = '@stella-ops/signer-client';

export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with the workspace's npm settings removed, so npm sees only `cwd`'s project. */
export function run(command: string, args: string[], cwd: string): Run {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
  );
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(result: Run, what: string): Run {
  if (result.status !== 0)
    throw new Error(`${what} failed (${result.status}):\n${result.stderr.slice(-2000)}`);
  return result;
}

/** `npm pack` of the built package into a fresh folder; the tarball's path. */
export function packClient(): string {
  if (!existsSync(join(CLIENT_PACKAGE_DIR, 'package.json')))
    throw new Error(`${CLIENT_PACKAGE_DIR} is missing: run \`npx nx run signer-client:build\` first`);
  const into = mkdtempSync(join(tmpdir(), 'signer-client-pack-'));
  ok(run('npm', ['pack', CLIENT_PACKAGE_DIR, '--pack-destination', into], into), 'npm pack');
  const [tarball] = readdirSync(into).filter((file) => file.endsWith('.tgz'));
  return join(into, tarball);
}

/**
 * An empty project outside the workspace (so no workspace node_modules can stand in for a missing
 * dependency) with only the tarball installed, its dependencies from the registry.
 */
export function installIntoEmptyProject(tarball: string): string {
  const project = mkdtempSync(join(tmpdir(), 'signer-client-consumer-'));
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  ok(
    run(
      'npm',
      ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      project,
    ),
    'npm install',
  );
  return project;
}
