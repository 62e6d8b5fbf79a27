import { hostname } from 'node:os';
import {
  ChainEndRefusedError,
  endAbandonedChain,
  listOpenChains,
  verifyAuditFile,
  verifyPostgresAudit,
  migrateAuditSchema,
  type PostgresAuditCheck,
} from '@signer/infra-store';
import type { ChainCheck } from '@signer/core';
import { parseCommand, stringOption } from '../args';
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

  signer audit chains <postgres://…>
      List the open writer chains (one per running replica, and one per replica that died
      without shutting down): chain id, host, pid, last seq, last record time, idle seconds.

  signer audit end-chain <chain-id> <postgres://…> [--min-idle-seconds N]
      End the chain of a replica that died without shutting down (SIGKILL, OOM): checkpoints
      stop listing it. Refused when it appended less than N s ago (default 600). Check first
      that its host/pid is gone: a live replica appending after the end breaks \`audit verify\`.
`;

type Subcommand = (args: string[], io: CliIo) => Promise<number>;

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  verify: auditVerify,
  export: auditExport,
  migrate: auditMigrate,
  chains: auditChains,
  'end-chain': auditEndChain,
};

/** `audit <verify|export|migrate|chains|end-chain> …` */
export async function audit(args: string[], io: CliIo): Promise<number> {
  const [name, ...rest] = args;
  const subcommand = name === undefined ? undefined : SUBCOMMANDS[name];
  if (subcommand === undefined) {
    throw usageError(
      `audit: expected verify, export, migrate, chains or end-chain, got ${name ?? 'nothing'}\n\n${AUDIT_HELP}`,
    );
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
  const url = postgresUrl(io, 'audit migrate', parsed.positionals[0]);
  const result = await withPostgres(url, (pool) => migrateAuditSchema(pool));
  const applied = result.applied.length > 0 ? `applied ${result.applied.join(', ')}` : 'nothing to apply';
  emit(io, `audit schema at version ${result.to} (${applied})\n`, {
    version: result.to,
    applied: result.applied,
  });
  return EXIT_OK;
}

function postgresUrl(io: CliIo, command: string, value: string): string {
  const source = auditSource(io, value);
  if (source.kind !== 'postgres') throw usageError(`${command}: expected a postgres:// URL`);
  return source.url;
}

async function auditChains(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('audit chains', args, {}, ['postgres-url']);
  const url = postgresUrl(io, 'audit chains', parsed.positionals[0]);
  const chains = await withPostgres(url, (pool) => listOpenChains(pool));
  const lines = chains.map((c) =>
    [c.chainId, c.host, c.pid, c.headSeq, c.lastRecordAt ?? '-', c.idleSeconds ?? '-'].join('\t'),
  );
  emit(io, lines.length > 0 ? `${lines.join('\n')}\n` : 'no open chain\n', { chains });
  return EXIT_OK;
}

const DEFAULT_MIN_IDLE_SECONDS = 600;

async function auditEndChain(args: string[], io: CliIo): Promise<number> {
  const parsed = parseCommand('audit end-chain', args, { 'min-idle-seconds': { type: 'string' } }, [
    'chain-id',
    'postgres-url',
  ]);
  const idleText = stringOption(parsed, 'min-idle-seconds');
  if (idleText !== undefined && !/^(0|[1-9][0-9]{0,8})$/.test(idleText))
    throw usageError(`audit end-chain: --min-idle-seconds expected an integer ≥ 0, got ${idleText}`);
  const [chainId, urlText] = parsed.positionals as [string, string];
  const url = postgresUrl(io, 'audit end-chain', urlText);
  const options = {
    minIdleSeconds: idleText === undefined ? DEFAULT_MIN_IDLE_SECONDS : Number(idleText),
    operator: `operator-${hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128),
  };
  // A refusal is an answer (exit 1 with the reason), not a PostgreSQL failure: caught inside.
  const ended = await withPostgres(url, (pool) =>
    endAbandonedChain(pool, chainId, options).catch((error: unknown) => {
      if (error instanceof ChainEndRefusedError) return error;
      throw error;
    }),
  );
  if (ended instanceof ChainEndRefusedError) {
    emit(io, `not ended: ${ended.message}\n`, { ended: false, reason: ended.message });
    return EXIT_FAILURE;
  }
  emit(io, `chain ${ended.chainId} ended at seq ${ended.seq}\n`, { ended: true, ...ended });
  return EXIT_OK;
}
