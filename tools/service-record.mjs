// The record `npm start` keeps of the service it runs, in the dev folder: `{ pid, url, config, log? }`.
// Its reader for the CLI is libs/signer-dev/src/embedded/running-service.ts (same file, same fields).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const SERVICE_RECORD_FILE = 'service.json';

/** `SIGNER_DEV_DIR` (resolved where the user ran npm), else the workspace's `.signer-dev`. */
export function devFolder(root) {
  const cwd = process.env.INIT_CWD ?? process.cwd();
  return process.env.SIGNER_DEV_DIR ? resolve(cwd, process.env.SIGNER_DEV_DIR) : join(root, '.signer-dev');
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Whether `pid` is still the service the record names: alive, and (where /proc exists) running with
 * the record's `--config`, so a pid reused after a hard kill left the record behind is never signalled.
 */
function stillTheService(record) {
  if (!Number.isInteger(record.pid) || !alive(record.pid)) return false;
  let argv;
  try {
    argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return true; // no /proc on this system: the pid check is all there is
  }
  const at = argv.indexOf('--config');
  return at >= 0 && argv[at + 1] === record.config;
}

/** The record if its service still runs; a stale or unreadable record counts as none. */
export function readRecord(dir) {
  try {
    const record = JSON.parse(readFileSync(join(dir, SERVICE_RECORD_FILE), 'utf8'));
    return stillTheService(record) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** Written whole (rename) so a reader never sees half a record. */
export function writeRecord(dir, record) {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, SERVICE_RECORD_FILE);
  writeFileSync(`${file}.${process.pid}`, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(`${file}.${process.pid}`, file);
}

/** Removes the record if it still names `pid` (another start may have replaced it). */
export function removeRecord(dir, pid) {
  try {
    const record = JSON.parse(readFileSync(join(dir, SERVICE_RECORD_FILE), 'utf8'));
    if (record.pid === pid) rmSync(join(dir, SERVICE_RECORD_FILE), { force: true });
  } catch {
    // no record, nothing to remove
  }
}
