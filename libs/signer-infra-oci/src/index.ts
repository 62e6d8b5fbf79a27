export * from './trusted-keys/trusted-keys';
export * from './trusted-keys/signature-check';
export * from './oci-layout/oci-layout-release-verifier';
