// The bench run: the Signer's signing throughput against two floors measured in the same run on
// the same machine — (a) a Nest+Fastify no-op endpoint fed the same requests, (b) the request's
// unavoidable crypto in a tight loop — and the ratio signer / combined floor; then the variant runs
// (variants.ts), each against the base signer run of its round. See docs/performance.md.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { measureCrypto, measureNoop } from './floors';
import { formatReport } from './report';
import type { BenchContext, BenchSettings } from './settings';
import { measureSigner } from './signer-phase';
import { summarise, type VariantRun } from './summary';
import type { Results, Round } from './types';
import { measureVariant } from './variant-phase';
import { variantsOfRound } from './variants';
import { filesystemOf, generateProfile } from './workspace';

const SERVICE_CPU = 0;
const LOAD_CPU = 1;

const log = (message: string) => process.stderr.write(`bench: ${message}\n`);

/** The commit measured, and whether the working tree differed from it (read-only git calls). */
function sourceVersion(root: string): Results['source'] {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: root, encoding: 'utf8', timeout: 10_000 }).trim();
  try {
    return { commit: git(['rev-parse', 'HEAD']), dirty: git(['status', '--porcelain']).length > 0 };
  } catch {
    return { commit: 'unknown', dirty: true };
  }
}

/** One round: the base signer run, its two floors, then the variant runs that fall in it. */
async function runRound(
  ctx: BenchContext,
  variantCtx: BenchContext,
  work: string,
  round: number,
  variantRuns: VariantRun[],
): Promise<Round> {
  const { settings } = ctx;
  const tag = settings.rounds > 1 ? `round ${round}/${settings.rounds}: ` : '';
  const pinning = settings.pinned ? `service on CPU ${SERVICE_CPU}, load on CPU ${LOAD_CPU}` : 'not pinned';
  // A fresh profile per round: each round's audit trail is checked on its own.
  const dir = join(work, `profile-${round}`);
  const profile = await generateProfile(dir);
  log(`${tag}signer, ${settings.connections} connections, ${settings.seconds} s (${pinning})…`);
  const signer = await measureSigner(ctx, profile, dir);
  log(`${tag}floor (a): no-op Nest+Fastify endpoint…`);
  const noop = await measureNoop(ctx, signer, work);
  log(`${tag}floor (b): DPoP verify + ES256 sign…`);
  const crypto = await measureCrypto(ctx, profile, signer);
  for (const variant of variantsOfRound(settings.variants, round, settings.rounds)) {
    log(`${tag}variant ${variant.name}: ${variant.configures}…`);
    // A variant's failures fail the bench, but not the base verdict; the other runs still report.
    try {
      variantRuns.push({ variant, round, run: await measureVariant(variantCtx, profile, dir, variant) });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      variantCtx.failures.push(`${variant.name}: ${message}`);
      variantRuns.push({ variant, round, error: message });
    }
  }
  return {
    signer: { ...signer.main, warmup: signer.warmup, audit: signer.audit },
    floorA: { ...noop.main, warmup: noop.warmup },
    floorB: crypto,
  };
}

/** Runs every round, writes tmp/bench/latest.json, prints the report; exit code 1 on a failure. */
export async function runBench(options: {
  root: string;
  signerBundle: string;
  settings: BenchSettings;
}): Promise<number> {
  const { root, settings } = options;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const base = {
    settings,
    root,
    signerBundle: options.signerBundle,
    serviceCpu: settings.pinned ? SERVICE_CPU : undefined,
    loadCpu: settings.pinned ? LOAD_CPU : undefined,
  };
  const ctx: BenchContext = { ...base, failures: [] };
  const variantCtx: BenchContext = { ...base, failures: [] };
  const variantRuns: VariantRun[] = [];
  const started = new Date();
  const work = mkdtempSync(join(tmpdir(), 'signer-bench-'));
  try {
    const rounds: Round[] = [];
    for (let round = 1; round <= settings.rounds; round += 1) {
      rounds.push(await runRound(ctx, variantCtx, work, round, variantRuns));
    }
    const summary = summarise(rounds, {
      settings,
      failures: ctx.failures,
      variantFailures: variantCtx.failures,
      variantRuns,
    });
    const [cpu] = cpus();
    const results: Results = {
      ...summary,
      date: started.toISOString(),
      machine: {
        cpus: cpus().length,
        model: cpu?.model,
        node: process.version,
        kernel: release(),
        auditFs: filesystemOf(work),
      },
      source: sourceVersion(root),
    };
    mkdirSync(join(root, 'tmp/bench'), { recursive: true });
    writeFileSync(join(root, 'tmp/bench/latest.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(formatReport(results));
  } finally {
    if (settings.keep) log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
  const failures = [...ctx.failures, ...variantCtx.failures];
  if (failures.length === 0) return 0;
  process.stderr.write(
    `\nbench: FAILED — requests failed, the audit trail is incomplete or a variant's counters are off\n  ${failures.join('\n  ')}\n`,
  );
  return 1;
}
