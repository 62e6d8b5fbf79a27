module.exports = {
  displayName: 'signer-infra-authority',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-infra-authority',
};
