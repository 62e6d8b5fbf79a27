module.exports = {
  displayName: 'signer-dev',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-dev',
};
