module.exports = {
  displayName: 'signer-core',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-core',
};
