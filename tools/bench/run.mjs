#!/usr/bin/env node
// `npm run bench`: bundles the service and the bench (src/main.ts) into a private folder under
// tmp/ and runs the bench; it prints the table and writes tmp/bench/latest.json. Settings by
// environment (BENCH_ROUNDS, BENCH_VARIANTS, BENCH_SECONDS, …: docs/performance.md); exits 1 when
// requests failed, the audit trail is incomplete or a variant's counters are off.
import { root, runHarness } from '../run-harness.mjs';

process.stderr.write('bench: building…\n');
const code = await runHarness({
  harness: 'bench',
  env: (signerBundle) => ({ BENCH_ROOT: root, BENCH_SIGNER_BUNDLE: signerBundle }),
});
process.exit(code);
