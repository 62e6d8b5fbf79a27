import { createWriteStream, type WriteStream } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ChainedAuditRecord } from '@signer/core';
import { exportPostgresAudit, readAuditFile } from '@signer/infra-store';
import { parseCommand, stringOption } from '../args';
import { EXIT_OK, usageError, type CliIo } from '../cli-io';
import { profileDir } from '../profile';
import { auditSource, withPostgres, type AuditSource } from './audit-source';

const OPTIONS = {
  tenant: { type: 'string' },
  since: { type: 'string' },
  source: { type: 'string' },
  out: { type: 'string' },
  profile: { type: 'string' },
} as const;

const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

function since(value: string | undefined): Date {
  const parsed = value !== undefined && RFC3339.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(parsed)) {
    throw usageError(`audit export: --since expected an RFC 3339 time, got ${value ?? 'nothing'}`);
  }
  return new Date(parsed);
}

async function* fileRecords(path: string, tenant: string, from: Date): AsyncGenerator<ChainedAuditRecord> {
  for await (const record of readAuditFile(path)) {
    if (record.tenant === tenant && Date.parse(record.time) >= from.getTime()) yield record;
  }
}

/**
 * `audit export --tenant T --since S`: one tenant's records, as stored (each keeps its prevHash
 * and hash, so an auditor can match it against the full trail), never another tenant's.
 */
export async function auditExport(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('audit export', args, OPTIONS, []);
  const tenant = stringOption(parsed, 'tenant');
  if (!tenant) throw usageError('audit export: --tenant is required');
  const from = since(stringOption(parsed, 'since'));
  const source: AuditSource = auditSource(
    io,
    stringOption(parsed, 'source') ??
      join(profileDir(io, stringOption(parsed, 'profile')), 'audit/audit.jsonl'),
  );
  const outFile = stringOption(parsed, 'out');
  const out: WriteStream | undefined =
    outFile === undefined ? undefined : createWriteStream(resolve(io.cwd, outFile), { mode: 0o600 });
  const write = (line: string) => (out ? out.write(line) : io.stdout(line));
  let count = 0;
  const drain = async (records: AsyncIterable<ChainedAuditRecord>) => {
    for await (const record of records) {
      write(`${JSON.stringify(record)}\n`);
      count += 1;
    }
  };
  try {
    if (source.kind === 'file') await drain(fileRecords(source.path, tenant, from));
    else await withPostgres(source.url, (pool) => drain(exportPostgresAudit(pool, { tenant, since: from })));
  } finally {
    if (out)
      await new Promise<void>((done, fail) =>
        out.end((error?: Error | null) => (error ? fail(error) : done())),
      );
  }
  io.stderr(`exported ${count} records for tenant ${tenant} since ${from.toISOString()}\n`);
  return EXIT_OK;
}
