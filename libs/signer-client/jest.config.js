module.exports = {
  displayName: 'signer-client',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-client',
};
