module.exports = {
  displayName: 'signer-cli',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/signer-cli',
};
