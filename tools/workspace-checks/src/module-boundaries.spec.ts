import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { createProjectGraphAsync } from '@nx/devkit';

const root = join(__dirname, '..', '..', '..');
const eslintBin = join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

/**
 * Lints `source` with the workspace's real ESLint CLI as if it were a file at `path`, returning
 * the rule ids that fired (the CLI, because ESLint loads its flat config with a dynamic import).
 */
async function ruleIdsFor(path: string, source: string): Promise<string[]> {
  const run = spawnSync(
    process.execPath,
    [eslintBin, '--stdin', '--stdin-filename', path, '--format', 'json'],
    {
      cwd: root,
      input: source,
      encoding: 'utf8',
      env: { ...process.env, NX_DAEMON: 'false' },
    },
  );
  if (!run.stdout) throw new Error(`eslint produced no report: ${run.stderr}`);
  const [result] = JSON.parse(run.stdout) as Array<{ messages: Array<{ ruleId: string | null }> }>;
  return result.messages.map((message) => message.ruleId ?? 'parse-error');
}

describe('module boundaries', () => {
  beforeAll(async () => {
    // The Nx rule reads the project graph; make sure it exists so the rule cannot be silently skipped.
    await createProjectGraphAsync({ exitOnError: false });
  });

  describe('when a signer-core file imports an infra lib', () => {
    it('fails lint with @nx/enforce-module-boundaries', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-core/src/boundary-fixture.ts',
        "import { OpTokVerifier } from '@signer/infra-authority';\nexport const leak = OpTokVerifier;\n",
      );
      expect(ids).toContain('@nx/enforce-module-boundaries');
    });
  });

  describe('when a signer-core file imports @nestjs/*', () => {
    it('fails lint', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-core/src/boundary-fixture.ts',
        "import { Injectable } from '@nestjs/common';\nexport const leak = Injectable;\n",
      );
      expect(ids).toEqual(expect.arrayContaining(['@nx/enforce-module-boundaries', 'no-restricted-imports']));
    });
  });

  describe('when a signer-core file does network I/O', () => {
    it('fails lint', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-core/src/boundary-fixture.ts',
        "import { request } from 'node:https';\nexport const leak = request;\n",
      );
      expect(ids).toContain('no-restricted-imports');
    });
  });

  describe('when an infra lib imports another infra lib', () => {
    it('fails lint', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-infra-kms/src/boundary-fixture.ts',
        "import { OpTokVerifier } from '@signer/infra-authority';\nexport const leak = OpTokVerifier;\n",
      );
      expect(ids).toContain('@nx/enforce-module-boundaries');
    });
  });

  describe('when production code imports the testing lib', () => {
    // One production source per tag: apps (both), infra, client, core. Only tests may use the fakes.
    it.each([
      ['type:app', 'apps/signer-api/src/boundary-fixture.ts'],
      ['type:app', 'apps/signer-cli/src/boundary-fixture.ts'],
      ['type:infra', 'libs/signer-infra-kms/src/boundary-fixture.ts'],
      ['type:client', 'libs/signer-client/src/boundary-fixture.ts'],
      ['type:core', 'libs/signer-core/src/boundary-fixture.ts'],
    ])('fails lint (%s: %s)', async (_tag, path) => {
      const ids = await ruleIdsFor(
        path,
        "import { FakeLicensingServer } from '@signer/testing';\nexport const leak = FakeLicensingServer;\n",
      );
      expect(ids).toEqual(expect.arrayContaining(['@nx/enforce-module-boundaries', 'no-restricted-imports']));
    });
  });

  describe('when production app code reaches into the testing lib by path', () => {
    it('fails lint', async () => {
      const ids = await ruleIdsFor(
        'apps/signer-cli/src/boundary-fixture.ts',
        "import { FakeLicensingServer } from '../../../libs/signer-testing/src/licensing/fake-licensing-server';\nexport const leak = FakeLicensingServer;\n",
      );
      expect(ids).toContain('no-restricted-imports');
    });
  });

  describe('when the dev material imports the testing lib', () => {
    it('fails lint', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-dev/src/boundary-fixture.ts',
        "import { FakeLicensingServer } from '@signer/testing';\nexport const leak = FakeLicensingServer;\n",
      );
      expect(ids).toEqual(expect.arrayContaining(['@nx/enforce-module-boundaries', 'no-restricted-imports']));
    });
  });

  describe('when the dev material imports an infra lib', () => {
    it('fails lint with @nx/enforce-module-boundaries', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-dev/src/boundary-fixture.ts',
        "import { OpTokVerifier } from '@signer/infra-authority';\nexport const leak = OpTokVerifier;\n",
      );
      expect(ids).toContain('@nx/enforce-module-boundaries');
    });
  });

  describe('when an infra lib imports the dev material', () => {
    it('fails lint with @nx/enforce-module-boundaries', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-infra-authority/src/boundary-fixture.ts',
        "import { DevAuthority } from '@signer/dev';\nexport const leak = DevAuthority;\n",
      );
      expect(ids).toContain('@nx/enforce-module-boundaries');
    });
  });

  describe('when an app imports the dev material', () => {
    it('passes lint (npm start and the CLI dev commands run on it)', async () => {
      const ids = await ruleIdsFor(
        'apps/signer-cli/src/boundary-fixture.ts',
        "import { DevAuthority } from '@signer/dev';\nexport const fine = DevAuthority;\n",
      );
      expect(ids).toEqual([]);
    });
  });

  describe('when an app test imports the testing lib', () => {
    it('passes lint (tests may use the fakes)', async () => {
      const ids = await ruleIdsFor(
        'apps/signer-cli/test/boundary-fixture.spec.ts',
        "import { expect, it } from '@jest/globals';\nimport { FakeLicensingServer } from '@signer/testing';\nit('x', () => {\n  expect(FakeLicensingServer).toBeDefined();\n});\n",
      );
      expect(ids).toEqual([]);
    });
  });

  describe("when a project imports another app's sources", () => {
    // Cross-app tests live in apps/signer-e2e and drive the built apps; there is no allow-list.
    it.each([
      [
        'an app test',
        'apps/signer-cli/test/boundary-fixture.spec.ts',
        '../../signer-api/src/http/create-app',
      ],
      ['app source', 'apps/signer-cli/src/boundary-fixture.ts', '../../signer-api/src/http/create-app'],
      ['an e2e test', 'apps/signer-e2e/test/boundary-fixture.spec.ts', '../../signer-cli/src/main'],
    ])('fails lint with @nx/enforce-module-boundaries (%s)', async (_kind, path, target) => {
      const ids = await ruleIdsFor(path, `import * as app from '${target}';\nexport const leak = app;\n`);
      expect(ids).toContain('@nx/enforce-module-boundaries');
    });
  });

  describe('when an e2e test uses the public entry points', () => {
    it('passes lint (the client, the dev material and the fakes)', async () => {
      const ids = await ruleIdsFor(
        'apps/signer-e2e/test/boundary-fixture.spec.ts',
        "import { expect, it } from '@jest/globals';\nimport { DpopKey } from '@signer/client';\nimport { DevAuthority } from '@signer/dev';\nimport { freePort } from '@signer/testing';\nit('x', () => {\n  expect([DpopKey, DevAuthority, freePort]).toHaveLength(3);\n});\n",
      );
      expect(ids).toEqual([]);
    });
  });

  describe('when a test is focused', () => {
    it('fails lint with jest/no-focused-tests', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-core/src/focus-fixture.spec.ts',
        "it.only('x', () => { expect(1).toBe(1); });\n",
      );
      expect(ids).toContain('jest/no-focused-tests');
    });
  });

  describe('when a signer-core file imports only core', () => {
    it('passes lint (the rules are not simply failing everything)', async () => {
      const ids = await ruleIdsFor(
        'libs/signer-core/src/boundary-fixture.ts',
        "import { canonicalize } from './canonical-json/canonical-json';\nexport const fine = canonicalize;\n",
      );
      expect(ids).toEqual([]);
    });
  });
});
