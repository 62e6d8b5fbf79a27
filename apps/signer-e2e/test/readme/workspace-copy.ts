import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * What a clone of the current tree would hold: every file git tracks or would track (edits not
 * yet committed included, ignored files such as .signer-dev/ and dist/ left out), copied to a
 * fresh folder. node_modules is linked, not installed: `npm ci` would only re-fetch the lockfile.
 */
export function copyWorkspace(root: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'signer-clone-'));
  const listed = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: root,
    maxBuffer: 64 * 1024 * 1024,
  });
  for (const file of listed.toString('utf8').split('\0')) {
    // A tracked file deleted in the working tree is listed but not there: a clone would not have it either.
    if (file === '' || !existsSync(join(root, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(join(root, file), join(dir, file));
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The environment of a fresh shell: nothing the surrounding npm, Nx or a developer's Signer set. */
export function freshShellEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|NX_|SIGNER_|SIGNER__)/i.test(name) || name === 'INIT_CWD') continue;
    env[name] = value;
  }
  return { ...env, ...extra };
}
