module.exports = {
  displayName: 'signer-api',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/apps/signer-api',
};
