export * from './errors';
export { pae, type DsseEnvelope } from './dsse';
export * from './verify-dsse-envelope';
export * from './verify-sigstore-bundle';
export * from './dpop/dpop-key';
export * from './client/wire-types';
export * from './client/ceremony-wire-types';
export * from './client/client-errors';
export * from './client/signer-client';
export {
  DEFAULT_RETRY_OPTIONS,
  RETRYABLE_STATUSES,
  type RetryClock,
  type RetryEvent,
  type RetryOptions,
  type RetrySettings,
  type Sleep,
} from './client/retry-policy';
export * from './client/tls-fetch';
export * from './verify-bundle';
