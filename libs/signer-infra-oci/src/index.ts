export * from './trusted-keys/trusted-keys';
export * from './trusted-keys/signature-check';
export * from './oci/limits';
export * from './oci-layout/oci-layout-release-verifier';
export * from './registry/registry-credentials';
export * from './registry/repository-name';
export * from './registry-release/registry-release-verifier';
export * from './registry/registry-probe';
