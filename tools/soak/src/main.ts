import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { renderReport } from './report';
import { settingsFromEnv } from './settings';
import { runSoak } from './soak';

/**
 * `npm run soak` (tools/soak/run.mjs bundles this file and runs it). Prints the check and phase
 * tables, writes the JSON report to SOAK_REPORT when set, and exits 1 when any check fails.
 */
async function main(): Promise<number> {
  const settings = settingsFromEnv(process.env);
  const report = await runSoak(settings, (line) => console.log(line));
  console.log(renderReport(report));
  if (settings.reportFile) {
    mkdirSync(dirname(settings.reportFile), { recursive: true });
    writeFileSync(settings.reportFile, `${JSON.stringify(report, null, 2)}\n`);
  }
  return report.passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`soak: ${(error as Error)?.stack ?? String(error)}`);
    process.exit(2);
  },
);
