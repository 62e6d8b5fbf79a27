#!/usr/bin/env node
// `npm stop`: stops the Signer that `npm start` (foreground or --detach) runs on this workspace's
// dev folder (.signer-dev/ or $SIGNER_DEV_DIR), by the pid in its record, and waits until it exits.
import { join } from 'node:path';
import { alive, devFolder, readRecord, removeRecord } from './service-record.mjs';

const STOP_TIMEOUT_MS = 15_000;
const devDir = devFolder(join(import.meta.dirname, '..'));
const record = readRecord(devDir);
if (!record) {
  process.stdout.write('no Signer started by npm start is running\n');
  process.exit(0);
}
process.kill(record.pid, 'SIGTERM');
const deadline = Date.now() + STOP_TIMEOUT_MS;
while (alive(record.pid) && Date.now() < deadline) await new Promise((done) => setTimeout(done, 100));
if (alive(record.pid)) {
  process.stderr.write(
    `npm stop: the Signer (pid ${record.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s\n`,
  );
  process.exit(1);
}
removeRecord(devDir, record.pid);
process.stdout.write(`stopped the Signer on ${record.url}\n`);
