module.exports = {
  displayName: 'signer-infra-oci',
  preset: '../../jest.preset.js',
  rootDir: __dirname,
  coverageDirectory: '../../coverage/libs/signer-infra-oci',
};
