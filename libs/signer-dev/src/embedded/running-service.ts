import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * `npm start` (tools/start.mjs, which writes it) records the service it runs here, once `/readyz`
 * answers, and removes the record when the service stops: the URL it really listens on, so a port
 * moved by `SIGNER__SERVER__PORT` (or `0`) reaches the dev commands, and the pid `npm stop` ends.
 */
export const SERVICE_RECORD_FILE = 'service.json';

export interface ServiceRecord {
  pid: number;
  /** The service's public base URL, as the running service reported it. */
  url: string;
  /** The config file the service runs on (the profile's `signer.yaml`, or an operator's file). */
  config: string;
  /** Where a detached service (`npm start -- --detach`) writes its logs. */
  log?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The record in `dir` if its service is still running; a stale or unreadable one counts as none. */
export function readServiceRecord(dir: string): ServiceRecord | undefined {
  let record: Partial<ServiceRecord>;
  try {
    record = JSON.parse(readFileSync(join(dir, SERVICE_RECORD_FILE), 'utf8')) as Partial<ServiceRecord>;
  } catch {
    return undefined;
  }
  if (typeof record.pid !== 'number' || typeof record.url !== 'string' || typeof record.config !== 'string')
    return undefined;
  return alive(record.pid) ? (record as ServiceRecord) : undefined;
}

/** Where `npm start` reports the service on the profile in `dir` listening, else `configured`. */
export function liveSignerUrl(dir: string, configured: string): string {
  const record = readServiceRecord(dir);
  return record && resolve(record.config) === resolve(dir, 'signer.yaml') ? record.url : configured;
}
