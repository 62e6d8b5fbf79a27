export * from './memory/memory-ttl-cache';
export * from './memory/memory-replay-cache';
export * from './memory/memory-nonce-store';
export * from './memory/memory-quota-gate';
export * from './file/file-audit-sink';
export { MAX_AUDIT_LINE_BYTES, readAuditFile, verifyAuditFile } from './file/audit-file';
export * from './redis/redis-connection';
export * from './redis/redis-ttl-cache';
export * from './redis/redis-replay-cache';
export * from './redis/redis-nonce-store';
export * from './redis/redis-quota-gate';
export * from './postgres/postgres-audit-sink';
export * from './postgres/postgres-audit-trail';
export { ensureAuditSchema, migrateAuditSchema, readAuditSchemaVersion } from './postgres/migrate';
export {
  AUDIT_MIGRATIONS,
  AUDIT_SCHEMA_VERSION,
  AUDIT_TABLE,
  AUDIT_WRITER_ROLE,
} from './postgres/migrations';
export * from './memory/idempotency-records';
export * from './memory/memory-idempotency-store';
export * from './redis/redis-idempotency-store';
export { RATE_SHAPER_LIMIT } from './shaping/rate-slots';
export * from './shaping/memory-rate-shaper';
export * from './shaping/redis-rate-shaper';
