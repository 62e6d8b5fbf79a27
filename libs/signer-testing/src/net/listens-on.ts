import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const TCP_LISTEN = '0A';

/**
 * True when process `pid` itself holds a listening TCP socket on `port` (from /proc): a `/readyz`
 * answer alone could come from another process that took the port between its choice and a
 * replica's `listen` (tests run in parallel), while the replica dies with EADDRINUSE. Linux only.
 */
export function listensOn(pid: number, port: number): boolean {
  const inodes = new Set<string>();
  let descriptors: string[];
  try {
    descriptors = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return false; // the process is gone
  }
  for (const fd of descriptors) {
    try {
      const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`, { encoding: 'utf8' }));
      if (socket) inodes.add(socket[1]);
    } catch {
      // a descriptor closed while the list was read
    }
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let rows: string[];
    try {
      rows = readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const row of rows) {
      const fields = row.trim().split(/\s+/);
      // local_address is "ADDR:PORT"; st is the state; inode is the 10th field.
      if (
        fields.length > 9 &&
        fields[1].endsWith(`:${hexPort}`) &&
        fields[3] === TCP_LISTEN &&
        inodes.has(fields[9])
      )
        return true;
    }
  }
  return false;
}
