#!/usr/bin/env node
// `npm start [-- --config FILE] [-- --detach]`: runs the real service. Without a config (neither
// --config nor SIGNER_CONFIG) it runs on the embedded profile, generated into .signer-dev/ (or
// $SIGNER_DEV_DIR) when absent. The port moves with SIGNER__SERVER__PORT like any config key; the
// service reports the URL it really listens on, and that is what the banner prints and what the
// record in the dev folder (service.json, read by the CLI's dev commands and `npm stop`) holds.
// Foreground: returns when the service stops; SIGINT/SIGTERM/SIGHUP to this process, or its parent
// (npm) going away, stop the service. --detach: returns once /readyz answers, the service running
// on in the background (logs in the dev folder) until `npm stop`.
import { spawn, execFileSync } from 'node:child_process';
import { openSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildEntry } from './build.mjs';
import { devFolder, readRecord, removeRecord, writeRecord } from './service-record.mjs';

const USAGE =
  'usage: npm start [-- --config FILE] [-- --detach]   (port: SIGNER__SERVER__PORT=9000 npm start)';
const READY_TIMEOUT_MS = 60_000;
const root = join(import.meta.dirname, '..');
const cwd = process.env.INIT_CWD ?? process.cwd();

function fail(message, code = 2) {
  process.stderr.write(`npm start: ${message}\n${code === 2 ? `${USAGE}\n` : ''}`);
  process.exit(code);
}

function parseArguments(argv) {
  const options = { config: undefined, detach: false };
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '--detach') options.detach = true;
    else if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (arg === '--config' || arg.startsWith('--config=')) {
      options.config = arg === '--config' ? argv[++index] : arg.slice('--config='.length);
      if (!options.config) fail('--config needs a file');
    } else fail(`unknown argument ${arg}`);
  }
  return options;
}

/** Resolves when GET /readyz answers 200; rejects when the service exits first or takes too long. */
async function ready(url, child) {
  // An https listener usually has a certificate this script does not trust: listening is enough.
  if (url.startsWith('https:')) return;
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (child.exitCode === null && child.signalCode === null && Date.now() < deadline) {
    try {
      if ((await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok) return;
    } catch {
      // not answering yet
    }
    await new Promise((done) => setTimeout(done, 200));
  }
  throw new Error(
    child.exitCode === null ? `not ready after ${READY_TIMEOUT_MS / 1000} s` : 'the service exited',
  );
}

function banner({ url, config, embedded, log }) {
  const lines = [`Stella Ops Signer ready on ${url}`, `  config:   ${config}`];
  if (embedded) {
    lines.splice(1, 0, '  embedded profile: every gate active on local dev material');
    lines.push(
      `  keys:     curl -s ${url}/api/v1/signer/keys`,
      '  sign:     npm run cli -- dev sign README.md --out /tmp/bundle.json',
      '  verify:   npm run cli -- dev verify /tmp/bundle.json',
    );
  }
  if (log) lines.push(`  logs:     ${log}`);
  lines.push(`  stop:     ${log ? 'npm stop' : 'Ctrl-C, or npm stop'}`);
  process.stderr.write(`\n${lines.join('\n')}\n\n`);
}

const options = parseArguments(process.argv.slice(2));
const devDir = devFolder(root);
const running = readRecord(devDir);
if (running)
  fail(
    `a Signer started by npm start already runs (pid ${running.pid}, ${running.url}); stop it with npm stop`,
    1,
  );

const main = await buildEntry('signer-api');
let config = options.config ?? process.env.SIGNER_CONFIG;
const embedded = !config;
if (embedded) {
  const generator = await buildEntry('embedded-profile');
  const out = execFileSync(process.execPath, [generator, devDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (JSON.parse(out.toString()).generated) process.stderr.write(`embedded profile generated in ${devDir}\n`);
  config = join(devDir, 'signer.yaml');
}
config = resolve(cwd, config);

const env = { ...process.env, SIGNER_CONFIG: config };
const args = ['--enable-source-maps', main, '--config', config];
const log = options.detach ? join(devDir, 'signer.log') : undefined;
const logStart = log ? logSize(log) : 0;
const output = log ? openSync(log, 'a', 0o600) : 'inherit';
const child = spawn(process.execPath, args, {
  env,
  detached: options.detach,
  stdio: [options.detach ? 'ignore' : 'inherit', output, output, 'ipc'],
});

function logSize(file) {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

child.on('message', (message) => {
  if (message?.type !== 'signer.listening') return;
  ready(message.url, child).then(
    () => {
      writeRecord(devDir, { pid: child.pid, url: message.url, config, ...(log ? { log } : {}) });
      banner({ url: message.url, config, embedded, log });
      if (!options.detach) return;
      child.disconnect();
      child.unref();
      process.exit(0);
    },
    (error) => {
      process.stderr.write(`npm start: ${error.message}\n`);
      child.kill('SIGTERM');
    },
  );
});

child.on('exit', (code, signal) => {
  removeRecord(devDir, child.pid);
  if (log) process.stderr.write(readFileSync(log, 'utf8').slice(logStart).split('\n').slice(-20).join('\n'));
  process.exit(code ?? (signal ? 1 : 0));
});

if (!options.detach) {
  let stopping = false;
  // SIGTERM whatever arrived: a terminal's Ctrl-C also reaches the service, and its second SIGINT
  // would cut its graceful shutdown short.
  const stop = () => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, stop);
  // `kill <npm's pid>`: npm passes the signal to its shell, not to this process; the shell dies and
  // this process is re-parented. Seeing that is how the service stops with the npm that started it.
  const parent = process.ppid;
  setInterval(() => process.ppid !== parent && stop(), 250).unref();
}
