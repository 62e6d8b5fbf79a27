// The bench's one bundle (tools/build.mjs `bench`), run by `npm run bench` (tools/bench/run.mjs).
// Without a role it runs the bench; the child processes it starts run this same file with a role:
// the load generator, floor (b), floor (a)'s no-op server, the variant runs' fakes, the audit
// bench's writers. Each role's module is imported only in its own process (the no-op server's Nest
// app, the fakes' libraries). `BENCH_AUDIT=1` runs the audit bench (audit-bench.ts) instead.
import { errorText, serveJob, type Role } from './processes';
import { readSettings } from './settings';

const ROLES: Record<Role, () => Promise<void>> = {
  load: async () => serveJob((await import('./load')).runLoad),
  'crypto-floor': async () => serveJob((await import('./crypto-floor')).runCryptoFloor),
  'noop-server': async () => (await import('./noop-server')).serveNoop(process.argv[3]),
  fakes: async () => (await import('./fakes')).serveFakes(),
  'audit-writer': async () => serveJob((await import('./audit-writer')).runAuditWriters),
};

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name}: expected a path (set by tools/bench/run.mjs), got nothing`);
  return value;
}

async function main(): Promise<number | undefined> {
  const role = process.argv[2];
  if (role !== undefined) {
    const start = ROLES[role as Role];
    if (!start) throw new Error(`expected a role (${Object.keys(ROLES).join(', ')}), got ${role}`);
    await start();
    return undefined;
  }
  if (process.env['BENCH_AUDIT'] === '1') {
    const { readAuditSettings } = await import('./audit-settings');
    const { runAuditBench } = await import('./audit-bench');
    return runAuditBench(readAuditSettings(process.env));
  }
  const settings = readSettings(process.env);
  const { runBench } = await import('./bench');
  return runBench({ root: required('BENCH_ROOT'), signerBundle: required('BENCH_SIGNER_BUNDLE'), settings });
}

main().then(
  (code) => {
    if (code !== undefined) process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${errorText(error)}\n`);
    process.exit(1);
  },
);
