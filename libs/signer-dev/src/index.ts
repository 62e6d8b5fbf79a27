// Dev material: what `npm start` (the embedded profile) and the CLI's dev commands run on — a dev
// Authority and Licensing with real keys, and a dev scanner release signed with a dev release key.
// Not fakes: nothing here serves or intercepts; the test fakes (libs/signer-testing) build on it.
export * from './authority/dev-authority';
export * from './licensing/dev-licensing';
export * from './release/media-types';
export * from './release/oci-layout';
export * from './release/release-keys';
export * from './release/cosign-signature';
export * from './release/sigstore-bundle-signature';
export * from './release/scanner-release';
export * from './embedded/embedded-profile';
export * from './embedded/running-service';
