import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The shared test server (trust auth on loopback); tests never stop it, they only add databases. */
export const TEST_POSTGRES_URL =
  process.env['SIGNER_TEST_POSTGRES_URL'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface ThrowawayDatabase {
  name: string;
  /** Connection URL as the admin (owner) user. */
  url: string;
  /** The same database as another login role. */
  urlAs(role: string, host?: string, port?: number): string;
  /** Runs SQL as the admin user on this database. */
  sql<T extends Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** A fresh LOGIN role (dropped by `drop`), member of the given roles. */
  createLoginRole(memberOf: string[]): Promise<string>;
  drop(): Promise<void>;
}

async function withClient<T>(url: string, run: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await run(client);
  } finally {
    await client.end();
  }
}

function withDatabase(url: string, database: string, user?: string, host?: string, port?: number): string {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  if (user) parsed.username = user;
  if (host) parsed.hostname = host;
  if (port) parsed.port = String(port);
  return parsed.toString();
}

/** Creates a uniquely named database for one test run; `drop()` removes it and its roles. */
export async function createThrowawayDatabase(prefix = 'signer_test'): Promise<ThrowawayDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  await withClient(TEST_POSTGRES_URL, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = withDatabase(TEST_POSTGRES_URL, name);
  const roles: string[] = [];
  return {
    name,
    url,
    urlAs: (role, host, port) => withDatabase(TEST_POSTGRES_URL, name, role, host, port),
    sql: async <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
      withClient(url, async (client) => (await client.query<T>(text, params)).rows),
    createLoginRole: async (memberOf) => {
      const role = `${name}_login_${roles.length}`;
      await withClient(url, async (client) => {
        await client.query(`CREATE ROLE ${role} LOGIN`);
        for (const group of memberOf) await client.query(`GRANT ${group} TO ${role}`);
      });
      roles.push(role);
      return role;
    },
    drop: () =>
      withClient(TEST_POSTGRES_URL, async (client) => {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        for (const role of roles) await client.query(`DROP ROLE IF EXISTS ${role}`);
      }),
  };
}
