export * from './memory/memory-ttl-cache';
export * from './memory/memory-replay-cache';
export * from './memory/memory-nonce-store';
export * from './memory/memory-quota-gate';
export * from './file/file-audit-sink';
export { MAX_AUDIT_LINE_BYTES, readAuditFile, verifyAuditFile } from './file/audit-file';
