/** The API version published in the OpenAPI document (bump with contract changes). */
export const SIGNER_VERSION = '1.0.0';
