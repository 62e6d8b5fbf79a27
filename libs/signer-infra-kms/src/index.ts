export * from './errors';
export * from './key-ref';
export * from './file/file-key-signer';
export * from './registry/static-key-signer-registry';
export * from './sigstore/sigstore-dsse-bundle-encoder';
