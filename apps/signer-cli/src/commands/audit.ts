import {
  verifyAuditFile,
  verifyPostgresAudit,
  migrateAuditSchema,
  type PostgresAuditCheck,
} from '@signer/infra-store';
import type { ChainCheck } from '@signer/core';
import { parseCommand } from '../args';
import { emit, EXIT_FAILURE, EXIT_OK, usageError, type CliIo } from '../cli-io';
import { auditExport } from './audit-export';
import { auditSource, withPostgres } from './audit-source';

export const AUDIT_HELP = `signer audit — verify, export and migrate the Signer's audit trail

  signer audit verify <audit.jsonl | postgres://…>
      Walk the whole hash chain and report the first broken link (exit 1) or
      "audit trail intact: N records" (exit 0). PostgreSQL: every replica's chain, the
      checkpoint chain and that each checkpoint's heads are stored.

  signer audit export --tenant T --since <RFC 3339> [--source <audit.jsonl | postgres://…>]
                          [--out FILE] [--profile DIR]
      Write one tenant's records at or after --since as JSON lines (stdout, or FILE with mode
      0600). --source defaults to the embedded profile's audit/audit.jsonl.

  signer audit migrate <postgres://owner@…>
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
  const check: ChainCheck | PostgresAuditCheck =
    source.kind === 'file'
      ? await verifyAuditFile(source.path)
      : await withPostgres(source.url, (pool) => verifyPostgresAudit(pool));
  if (check.ok) {
    // A PostgreSQL trail is one chain per replica tied by checkpoints (lastHash: the last checkpoint's).
    const tied = isTiedChains(check) ? { chains: check.chains, checkpoints: check.checkpoints } : undefined;
    const spread = tied ? ` in ${tied.chains} chains, ${tied.checkpoints} checkpoints` : '';
    emit(io, `audit trail intact: ${check.count} records${spread}, last hash ${check.lastHash}\n`, {
      intact: true,
      count: check.count,
      lastHash: check.lastHash,
      ...tied,
    });
    return EXIT_OK;
  }
  emit(io, `audit trail broken at record #${check.index + 1}: ${check.reason}\n`, {
    intact: false,
    record: check.index + 1,
    reason: check.reason,
  });
  return EXIT_FAILURE;
}

function isTiedChains(
  check: ChainCheck | PostgresAuditCheck,
): check is Extract<PostgresAuditCheck, { ok: true }> {
  return check.ok && 'chains' in check;
}

async function auditMigrate(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('audit migrate', args, {}, ['postgres-url']);
  const source = auditSource(io, parsed.positionals[0]);
  if (source.kind !== 'postgres') throw usageError('audit migrate: expected a postgres:// URL');
  const result = await withPostgres(source.url, (pool) => migrateAuditSchema(pool));
  const applied = result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'nothing to apply';
  emit(io, `audit schema at version ${result.to} (${applied})\n`, {
    version: result.to,
    applied: result.applied,
  });
  return EXIT_OK;
}
