import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Pool } from 'pg';
import { SignerError } from '@signer/core';
import { CliError, EXIT_UNREACHABLE, type CliIo } from '../cli-io';

const POSTGRES_URL = /^postgres(ql)?:\/\//;

/** An audit trail named on the command line: a JSON-lines file or a PostgreSQL database. */
export type AuditSource = { kind: 'file'; path: string } | { kind: 'postgres'; url: string };

export function auditSource(io: CliIo, value: string): AuditSource {
  if (POSTGRES_URL.test(value)) return { kind: 'postgres', url: value };
  const path = resolve(io.cwd, value);
  if (!existsSync(path)) throw new CliError(`${path}: no such audit file`);
  return { kind: 'file', path };
}

/** A short-lived pool for one command; the URL (which may hold a password) is never printed. */
export async function withPostgres<T>(url: string, run: (pool: Pool) => Promise<T>): Promise<T> {
  const pool = new Pool({ connectionString: url, max: 1, connectionTimeoutMillis: 5000 });
  pool.on('error', () => undefined);
  try {
    return await run(pool);
  } catch (error) {
    throw describe(error);
  } finally {
    await pool.end().catch(() => undefined);
  }
}

/** One line with the PostgreSQL cause ("connect ECONNREFUSED …", "permission denied …"). */
function describe(error: unknown): CliError {
  if (error instanceof CliError) return error;
  const cause = error instanceof SignerError ? (error.cause as Error | undefined) : undefined;
  const message = (error as Error).message ?? String(error);
  const text = cause?.message ? `${message}: ${cause.message}` : message;
  // Not reaching the database is worth a retry (exit 3); anything it answered is not (exit 1).
  const unreachable = UNREACHABLE.some((code) => text.includes(code));
  return unreachable ? new CliError(text, EXIT_UNREACHABLE, 'unreachable') : new CliError(text);
}

const UNREACHABLE = ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'timeout exceeded'];
