/** Nest injection token for the assembled runtime (interfaces have no runtime identity). */
export const SIGNER_RUNTIME = Symbol('SignerRuntime');
