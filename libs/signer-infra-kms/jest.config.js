module.exports = {
  displayName: 'signer-infra-kms',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-infra-kms',
};
