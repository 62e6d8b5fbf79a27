export * from './optok/jwks-file';
export * from './optok/optok-verifier';
export * from './dpop/dpop-proof-verifier';
export * from './dpop/htu';
export * from './mtls/certificate-thumbprint';
export * from './sender-binding';
export * from './poe/offline-poe-verifier';
