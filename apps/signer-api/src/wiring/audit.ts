import type { AuditSink } from '@signer/core';
import { FileAuditSink } from '@signer/infra-store';
import type { SignerConfig } from '../config/config-schema';

export async function createAuditSink(config: SignerConfig): Promise<AuditSink> {
  return FileAuditSink.open({ filePath: config.audit.filePath as string });
}
