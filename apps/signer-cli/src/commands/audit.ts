import { verifyAuditFile, verifyPostgresAudit, migrateAuditSchema } from '@signer/infra-store';
import type { ChainCheck } from '@signer/core';
import { parseCommand } from '../args';
import { EXIT_FAILURE, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { auditExport } from './audit-export';
import { auditSource, withPostgres } from './audit-source';

export const AUDIT_HELP = `signer-cli audit — verify, export and migrate the Signer's audit trail

  signer-cli audit verify <audit.jsonl | postgres://…>
      Walk the whole hash chain and report the first broken link (exit 1) or
      "audit trail intact: N records" (exit 0).

  signer-cli audit export --tenant T --since <RFC 3339> [--source <audit.jsonl | postgres://…>]
                          [--out FILE] [--profile DIR]
      Write one tenant's records at or after --since as JSON lines (stdout, or FILE with mode
      0600). --source defaults to the embedded profile's audit/audit.jsonl.

  signer-cli audit migrate <postgres://owner@…>
      Apply the audit schema's versioned migrations (as the schema owner, not the Signer's role).
`;

type Subcommand = (args: string[], io: CliIo) => Promise<number>;

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  verify: auditVerify,
  export: auditExport,
  migrate: auditMigrate,
};

/** `audit <verify|export|migrate> …` */
export async function audit(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
  if (subcommand === undefined) {
    throw usageError(`audit: expected verify, export or migrate, got ${name ?? 'nothing'}\n\n${AUDIT_HELP}`);
  }
  return subcommand(rest, io);
}

async function auditVerify(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('audit verify', args, {}, ['audit.jsonl | postgres-url']);
  const source = auditSource(io, parsed.positionals[0]);
  const check: ChainCheck =
    source.kind === 'file'
      ? await verifyAuditFile(source.path)
      : await withPostgres(source.url, (pool) => verifyPostgresAudit(pool));
  if (check.ok) {
    io.stdout(`audit trail intact: ${check.count} records, last hash ${check.lastHash}\n`);
    return EXIT_OK;
  }
  io.stdout(`audit trail broken at record #${check.index + 1}: ${check.reason}\n`);
  return EXIT_FAILURE;
}

async function auditMigrate(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('audit migrate', args, {}, ['postgres-url']);
  const source = auditSource(io, parsed.positionals[0]);
  if (source.kind !== 'postgres') throw usageError('audit migrate: expected a postgres:// URL');
  const result = await withPostgres(source.url, (pool) => migrateAuditSchema(pool));
  const applied = result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'nothing to apply';
  io.stdout(`audit schema at version ${result.to} (${applied})\n`);
  return EXIT_OK;
}
