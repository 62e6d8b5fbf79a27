/** The Distribution registry's own manifest size limit: nothing legitimate is larger. */
export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
/** Signature payloads and bundles are kilobytes; this only bounds memory on hostile input. */
export const DEFAULT_MAX_LAYER_BYTES = 1024 * 1024;
