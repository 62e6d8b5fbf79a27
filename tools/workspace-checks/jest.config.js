module.exports = {
  displayName: 'workspace-checks',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // Linting the fixtures loads the whole ESLint + Nx plugin stack; give it room.
  testTimeout: 120000,
};
