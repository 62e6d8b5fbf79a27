import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(__dirname, '..', '..', '..');
const knipBin = join(root, 'node_modules', 'knip', 'bin', 'knip.js');

/**
 * A miniature of this workspace: one lib behind a tsconfig path alias and its barrel, one app
 * entry, one spec, and package.json dependencies the sources use. It is checked with the
 * workspace's own knip.jsonc, so what is proven here is what `npm test` enforces.
 */
const CLEAN: Record<string, string> = {
  'package.json': JSON.stringify({
    name: 'fixture',
    private: true,
    dependencies: { yaml: '2.9.1' },
  }),
  'tsconfig.base.json': JSON.stringify({
    compilerOptions: { baseUrl: '.', paths: { '@signer/core': ['libs/signer-core/src/index.ts'] } },
  }),
  'apps/signer-api/tsconfig.json': JSON.stringify({ extends: '../../tsconfig.base.json' }),
  'libs/signer-core/tsconfig.json': JSON.stringify({ extends: '../../tsconfig.base.json' }),
  'libs/signer-core/src/index.ts': "export * from './greeting';\n",
  // A default constant exported and used by its own module (house style): not dead.
  'libs/signer-core/src/greeting.ts': [
    "export const DEFAULT_NAME = 'world';",
    'export function greet(name: string = DEFAULT_NAME): string {',
    '  return `hello ${name}`;',
    '}',
    '',
  ].join('\n'),
  'libs/signer-core/src/greeting.spec.ts': [
    "import { greet } from './greeting';",
    "it('greets', () => expect(greet('x')).toBe('hello x'));",
    '',
  ].join('\n'),
  'apps/signer-api/src/main.ts': [
    "import { parse } from 'yaml';",
    "import { greet } from '@signer/core';",
    "console.log(greet(), parse('a: 1'));",
    '',
  ].join('\n'),
};

interface KnipReport {
  issues: Array<{
    file: string;
    dependencies?: Array<{ name: string }>;
    exports?: Array<{ name: string }>;
  }>;
}

/** Runs the real Knip CLI with the workspace's config on `files`; its exit code and JSON report. */
function knip(files: Record<string, string>): { status: number | null; report: KnipReport } {
  const dir = mkdtempSync(join(tmpdir(), 'knip-fixture-'));
  try {
    cpSync(join(root, 'knip.jsonc'), join(dir, 'knip.jsonc'));
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    const run = spawnSync(process.execPath, [knipBin, '--no-progress', '--reporter', 'json'], {
      cwd: dir,
      encoding: 'utf8',
    });
    if (!run.stdout) throw new Error(`knip produced no report: ${run.stderr}`);
    return { status: run.status, report: JSON.parse(run.stdout) as KnipReport };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = (report: KnipReport, kind: 'dependencies' | 'exports'): string[] =>
  report.issues.flatMap((issue) => (issue[kind] ?? []).map((item) => `${issue.file}: ${item.name}`));

describe('unused code check (knip.jsonc)', () => {
  describe('when every dependency and export is used', () => {
    it('passes with an empty report', () => {
      const { status, report } = knip(CLEAN);
      expect(report.issues).toEqual([]);
      expect(status).toBe(0);
    });
  });

  describe('when a lib exports something nothing imports (reached through the alias barrel)', () => {
    it('fails and names the export', () => {
      const planted = `${CLEAN['libs/signer-core/src/greeting.ts']}export const PLANTED_UNUSED = 1;\n`;
      const { status, report } = knip({ ...CLEAN, 'libs/signer-core/src/greeting.ts': planted });
      expect(names(report, 'exports')).toEqual(['libs/signer-core/src/greeting.ts: PLANTED_UNUSED']);
      expect(status).toBe(1);
    });
  });

  describe('when package.json lists a dependency nothing imports', () => {
    it('fails and names the dependency', () => {
      const manifest = JSON.parse(CLEAN['package.json']) as { dependencies: Record<string, string> };
      const planted = { ...manifest, dependencies: { ...manifest.dependencies, pino: '10.4.0' } };
      const { status, report } = knip({ ...CLEAN, 'package.json': JSON.stringify(planted) });
      expect(names(report, 'dependencies')).toEqual(['package.json: pino']);
      expect(status).toBe(1);
    });
  });
});
