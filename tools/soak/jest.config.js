module.exports = {
  displayName: 'soak',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  // The short soak runs the whole harness (three replicas, every fault) in a child process.
  testTimeout: 240000,
};
