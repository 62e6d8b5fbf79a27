/**
 * Versioned, additive-only migrations of the PostgreSQL audit trail. Applied in order, each once,
 * inside one transaction under an advisory lock (so replicas starting together do not race), and
 * recorded in `signer_audit.schema_migrations`. A migration is never edited once released: a
 * change is a new version.
 */
export interface AuditMigration {
  version: number;
  name: string;
  sql: string;
}

export const AUDIT_SCHEMA = 'signer_audit';
export const AUDIT_TABLE = `${AUDIT_SCHEMA}.records`;
export const AUDIT_MIGRATIONS_TABLE = `${AUDIT_SCHEMA}.schema_migrations`;
/**
 * The role the Signer's login user is made a member of (`GRANT signer_audit_writer TO <login>`).
 * It may INSERT and SELECT the trail, nothing else: no UPDATE, DELETE or TRUNCATE.
 */
export const AUDIT_WRITER_ROLE = 'signer_audit_writer';

/** Created before any migration runs, so the version can be read and recorded. */
export const BOOTSTRAP_SQL = `
CREATE SCHEMA IF NOT EXISTS ${AUDIT_SCHEMA};
CREATE TABLE IF NOT EXISTS ${AUDIT_MIGRATIONS_TABLE} (
  version    integer     PRIMARY KEY,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
`;

const V1_APPEND_ONLY_TRAIL = `
-- The writer role is cluster-wide; creating it needs CREATEROLE. Without that privilege a DBA
-- creates it once (CREATE ROLE ${AUDIT_WRITER_ROLE} NOLOGIN) and this migration only grants.
DO $$
BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${AUDIT_WRITER_ROLE}') THEN
    CREATE ROLE ${AUDIT_WRITER_ROLE} NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object THEN NULL; -- created concurrently by another database's migration
END $$;

-- One global chain: row seq N carries the hash of row N-1 (GENESIS for seq 1). The record column
-- is the exact JSON line a file trail would hold, so both trails verify with the same code; the
-- other columns are copies for lookups and are checked against it by the verifier.
CREATE TABLE ${AUDIT_TABLE} (
  seq         bigint      PRIMARY KEY CHECK (seq > 0),
  audit_id    text        NOT NULL UNIQUE,
  recorded_at timestamptz NOT NULL,
  tenant      text,
  outcome     text        NOT NULL,
  prev_hash   text        NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash        text        NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  record      text        NOT NULL
);
-- UNIQUE (prev_hash) makes a fork impossible: no two records can follow the same predecessor.
CREATE INDEX records_tenant_time ON ${AUDIT_TABLE} (tenant, recorded_at, seq);

-- Append-only even for the owner (who could otherwise UPDATE): changes need the triggers disabled,
-- which is itself a privileged, logged act. The writer role cannot even attempt it (no grant).
CREATE FUNCTION ${AUDIT_SCHEMA}.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '${AUDIT_TABLE} is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER records_append_only BEFORE UPDATE OR DELETE ON ${AUDIT_TABLE}
  FOR EACH ROW EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_change();
CREATE TRIGGER records_no_truncate BEFORE TRUNCATE ON ${AUDIT_TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_change();

REVOKE ALL ON SCHEMA ${AUDIT_SCHEMA} FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ${AUDIT_SCHEMA} FROM PUBLIC;
GRANT USAGE ON SCHEMA ${AUDIT_SCHEMA} TO ${AUDIT_WRITER_ROLE};
GRANT SELECT, INSERT ON ${AUDIT_TABLE} TO ${AUDIT_WRITER_ROLE};
GRANT SELECT ON ${AUDIT_MIGRATIONS_TABLE} TO ${AUDIT_WRITER_ROLE};
`;

export const AUDIT_MIGRATIONS: readonly AuditMigration[] = [
  { version: 1, name: 'append-only hash-chained trail', sql: V1_APPEND_ONLY_TRAIL },
];

export const AUDIT_SCHEMA_VERSION = AUDIT_MIGRATIONS[AUDIT_MIGRATIONS.length - 1].version;
