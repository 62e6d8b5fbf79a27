module.exports = {
  displayName: 'signer-testing',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-testing',
};
