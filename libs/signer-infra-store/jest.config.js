module.exports = {
  displayName: 'signer-infra-store',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-infra-store',
};
