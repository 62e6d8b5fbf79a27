module.exports = {
  displayName: 'signer-e2e',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/signer-e2e',
};
