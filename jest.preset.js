// Shared Jest preset: SWC for speed (type checking is the separate `typecheck` target),
// tsconfig path aliases mapped to sources, and ESM-only packages transformed for Jest's CJS runtime.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths)) {
  moduleNameMapper[`^${alias.replace('/', '\\/')}$`] = path.join(__dirname, target);
}

module.exports = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  transform: {
    '^.+\\.(t|j|mj)s$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: false },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  transformIgnorePatterns: [
    '/node_modules/(?!(jose|asn1js|pkijs|pvtsutils|pvutils|bytestreamjs|@peculiar/utils|@noble/hashes|@noble/curves)/)',
  ],
  moduleNameMapper,
  testMatch: ['**/?(*.)+(spec|test).ts'],
  clearMocks: true,
  // e2e suites start real services and generate keys; a loaded 2-core CI machine needs headroom.
  testTimeout: 30000,
};
