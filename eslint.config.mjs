// Workspace lint: Nx module boundaries carry the architecture (see docs/modules/signer/architecture.md).
import nx from '@nx/eslint-plugin';
import jest from 'eslint-plugin-jest';
import prettier from 'eslint-config-prettier';

const FRAMEWORK_AND_SDK = [
  '@nestjs/*',
  'fastify',
  '@fastify/*',
  'ioredis',
  'pg',
  '@aws-sdk/*',
  '@google-cloud/*',
  'jose',
  '@sigstore/*',
  'yaml',
  'pino',
  'prom-client',
  'undici',
  'ajv',
  '@sinclair/typebox',
];
const NETWORK_BUILTINS = [
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dgram',
  'dns',
  'child_process',
  'fs',
  'fs/promises',
].flatMap((name) => [name, `node:${name}`]);

// Production sources: core depends on core only; infra on core only; client on nothing. The apps
// may also use the dev material (`npm start`'s embedded profile, the CLI's dev commands), never the
// fakes; the dev material itself builds on core only. Fakes and workspace tools may use everything.
const PRODUCTION_CONSTRAINTS = [
  {
    sourceTag: 'type:core',
    onlyDependOnLibsWithTags: ['type:core'],
    bannedExternalImports: FRAMEWORK_AND_SDK,
  },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:core'] },
  { sourceTag: 'type:client', onlyDependOnLibsWithTags: [] },
  { sourceTag: 'type:dev', onlyDependOnLibsWithTags: ['type:core'] },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:core', 'type:infra', 'type:client', 'type:dev', 'type:testing'],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:core', 'type:infra', 'type:client', 'type:dev'],
  },
  // Workspace tools (the soak harness) drive the service from outside, with the libs and the fakes.
  {
    sourceTag: 'type:tool',
    onlyDependOnLibsWithTags: ['type:core', 'type:infra', 'type:client', 'type:dev', 'type:testing'],
  },
];
const TEST_CONSTRAINTS = [
  {
    sourceTag: 'type:core',
    onlyDependOnLibsWithTags: ['type:core'],
    bannedExternalImports: FRAMEWORK_AND_SDK,
  },
  {
    sourceTag: 'type:infra',
    onlyDependOnLibsWithTags: ['type:core', 'type:client', 'type:dev', 'type:testing'],
  },
  { sourceTag: 'type:client', onlyDependOnLibsWithTags: ['type:dev', 'type:testing'] },
  // The dev material's own tests check it with the core and the independent client, not the fakes.
  { sourceTag: 'type:dev', onlyDependOnLibsWithTags: ['type:core', 'type:client', 'type:dev'] },
  {
    sourceTag: 'type:testing',
    onlyDependOnLibsWithTags: ['type:core', 'type:infra', 'type:client', 'type:dev', 'type:testing'],
  },
  {
    sourceTag: 'type:app',
    onlyDependOnLibsWithTags: ['type:core', 'type:infra', 'type:client', 'type:dev', 'type:testing'],
  },
  // Workspace tools (the soak harness) drive the service from outside, with the libs and the fakes.
  {
    sourceTag: 'type:tool',
    onlyDependOnLibsWithTags: ['type:core', 'type:infra', 'type:client', 'type:dev', 'type:testing'],
  },
  // Cross-app tests (apps/signer-e2e) run the built apps as processes and use only public library
  // entry points. No project imports another app's sources: Nx refuses any import of an app, and
  // there is no allow-list for one.
  {
    sourceTag: 'type:e2e',
    onlyDependOnLibsWithTags: ['type:core', 'type:client', 'type:dev', 'type:testing'],
  },
];
const boundaries = (depConstraints, allow = []) => ({
  enforceBuildableLibDependency: false,
  allow,
  depConstraints,
});

export default [
  ...nx.configs['flat/base'],
  ...nx.configs['flat/typescript'],
  prettier,
  {
    ignores: [
      '**/dist',
      '**/node_modules',
      '**/coverage',
      '.nx',
      'tmp',
      '.signer-dev',
      'tools/lint-fixtures/**',
    ],
  },
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': ['error', boundaries(PRODUCTION_CONSTRAINTS)],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    // Tests may also use the caller-side client (independent verifiers) and the fakes.
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    rules: { '@nx/enforce-module-boundaries': ['error', boundaries(TEST_CONSTRAINTS)] },
  },
  {
    // The core is pure: no framework, SDK, network or filesystem.
    files: ['libs/signer-core/src/**/*.ts'],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: NETWORK_BUILTINS.map((name) => ({ name, message: 'signer-core does no I/O: use a port.' })),
          patterns: [
            { group: FRAMEWORK_AND_SDK, message: 'signer-core must not import frameworks or SDKs.' },
            {
              group: ['@signer/infra-*', '@signer/dev', '@signer/testing', '@signer/client'],
              message: 'signer-core must not import other libs.',
            },
          ],
        },
      ],
    },
  },
  {
    // Fakes are for tests only: no production source (apps, infra, client, dev material) imports the
    // testing lib, by alias or by path. The depConstraints above already forbid it; this says why.
    // (signer-core has its own, stricter list above.)
    files: [
      'apps/*/src/**/*.ts',
      'libs/signer-infra-*/src/**/*.ts',
      'libs/signer-client/src/**/*.ts',
      'libs/signer-dev/src/**/*.ts',
    ],
    ignores: ['**/*.spec.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@signer/testing', '@signer/testing/*', '**/signer-testing/**'],
              message: 'test-only library (fakes); dev material lives in @signer/dev',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.spec.ts', '**/test/**/*.ts'],
    plugins: { jest },
    rules: {
      'jest/no-focused-tests': 'error',
      'jest/no-disabled-tests': 'error',
      'jest/expect-expect': ['error', { assertFunctionNames: ['expect', 'expect*', 'assert*'] }],
      'jest/no-identical-title': 'error',
    },
  },
];
