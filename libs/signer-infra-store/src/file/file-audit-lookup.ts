import type { AuditLookup } from '@signer/core';
import { auditFileError, readAuditLines } from './audit-file';

/**
 * {@link AuditLookup} on an audit file: one streaming pass over it (constant memory). Linear in the
 * file's size, which is acceptable because it is asked only on the rare path (a ceremony record
 * whose write failed or whose outcome is unknown), never per request. A torn last line (a write
 * cut short) is no record and is skipped.
 */
export class FileAuditLookup implements AuditLookup {
  constructor(private readonly filePath: string) {}

  async recorded(auditIds: readonly string[]): Promise<ReadonlySet<string>> {
    const wanted = new Set(auditIds);
    const found = new Set<string>();
    if (wanted.size === 0) return found;
    try {
      for await (const line of readAuditLines(this.filePath)) {
        // Cheap filter first: an id is 36 characters and appears verbatim in its record's line.
        if (![...wanted].some((id) => line.includes(id))) continue;
        const auditId = auditIdOf(line);
        if (auditId !== undefined && wanted.has(auditId)) found.add(auditId);
        if (found.size === wanted.size) break;
      }
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return found;
      throw auditFileError(`cannot read audit file ${this.filePath}`, cause);
    }
    return found;
  }
}

function auditIdOf(line: string): string | undefined {
  try {
    const value = JSON.parse(line) as { auditId?: unknown };
    return typeof value.auditId === 'string' ? value.auditId : undefined;
  } catch {
    return undefined;
  }
}
