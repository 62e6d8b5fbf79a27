export * from './release/media-types';
export * from './release/oci-layout';
export * from './release/release-keys';
export * from './release/cosign-signature';
export * from './release/scanner-release';
export * from './authority/dev-authority';
export * from './licensing/dev-licensing';
export * from './embedded/embedded-profile';
