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
/** One row per writer chain (a replica's process start), claimed once: two writers never share one. */
export const CHAINS_TABLE = `${AUDIT_SCHEMA}.chains`;
/** The records of every writer chain, keyed (chain_id, seq); version 1's `records` is chain `legacy`. */
export const CHAIN_RECORDS_TABLE = `${AUDIT_SCHEMA}.chain_records`;
/** The one global, hash-chained list of every open chain's head, written about once a second. */
export const CHECKPOINTS_TABLE = `${AUDIT_SCHEMA}.checkpoints`;
/** A chain's last record, written when its writer closed after a checkpoint listed that record. */
export const CHAIN_ENDS_TABLE = `${AUDIT_SCHEMA}.chain_ends`;
/** How checkpoints and the verifier name the version 1 chain in `records`. */
export const LEGACY_CHAIN_ID = 'legacy';
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

const V2_CHAIN_PER_WRITER = `
-- One chain per writer (docs/decisions.md): version 1's single chain made every replica's commit
-- wait for one advisory lock. Each writer now appends to a chain it alone owns, without a lock,
-- and a checkpoint chain ties the chains together. Additive: records stays as it is (chain
-- '${LEGACY_CHAIN_ID}'), so a version 1 build rolled back onto this schema keeps a valid trail.
CREATE TABLE ${CHAINS_TABLE} (
  chain_id  text        PRIMARY KEY CHECK (chain_id ~ '^[A-Za-z0-9._-]{1,128}$' AND chain_id <> '${LEGACY_CHAIN_ID}'),
  host      text        NOT NULL,
  pid       integer     NOT NULL,
  opened_at timestamptz NOT NULL DEFAULT now()
);

-- Row (chain, seq N) carries the hash of row (chain, N-1), GENESIS for seq 1; same columns as records.
CREATE TABLE ${CHAIN_RECORDS_TABLE} (
  chain_id    text        NOT NULL REFERENCES ${CHAINS_TABLE},
  seq         bigint      NOT NULL CHECK (seq > 0),
  audit_id    text        NOT NULL UNIQUE,
  recorded_at timestamptz NOT NULL,
  tenant      text,
  outcome     text        NOT NULL,
  prev_hash   text        NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash        text        NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  record      text        NOT NULL,
  PRIMARY KEY (chain_id, seq),
  UNIQUE (chain_id, prev_hash)
);
CREATE INDEX chain_records_tenant_time ON ${CHAIN_RECORDS_TABLE} (tenant, recorded_at);

-- Checkpoint N lists every chain's head (chain_id, seq, hash) and carries checkpoint N-1's hash.
CREATE TABLE ${CHECKPOINTS_TABLE} (
  seq         bigint      PRIMARY KEY CHECK (seq > 0),
  recorded_at timestamptz NOT NULL,
  writer      text        NOT NULL,
  prev_hash   text        NOT NULL UNIQUE CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
  hash        text        NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$'),
  record      text        NOT NULL
);

-- A closed chain never moves again and its end is already in a checkpoint: later checkpoints
-- leave it out, so their size follows the replicas running, not every restart ever made.
CREATE TABLE ${CHAIN_ENDS_TABLE} (
  chain_id  text        PRIMARY KEY REFERENCES ${CHAINS_TABLE},
  seq       bigint      NOT NULL CHECK (seq > 0),
  hash      text        NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$'),
  ended_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%.% is append-only', TG_TABLE_SCHEMA, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER chains_append_only BEFORE UPDATE OR DELETE ON ${CHAINS_TABLE}
  FOR EACH ROW EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER chains_no_truncate BEFORE TRUNCATE ON ${CHAINS_TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER chain_records_append_only BEFORE UPDATE OR DELETE ON ${CHAIN_RECORDS_TABLE}
  FOR EACH ROW EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER chain_records_no_truncate BEFORE TRUNCATE ON ${CHAIN_RECORDS_TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER chain_ends_append_only BEFORE UPDATE OR DELETE ON ${CHAIN_ENDS_TABLE}
  FOR EACH ROW EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER chain_ends_no_truncate BEFORE TRUNCATE ON ${CHAIN_ENDS_TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON ${CHECKPOINTS_TABLE}
  FOR EACH ROW EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON ${CHECKPOINTS_TABLE}
  FOR EACH STATEMENT EXECUTE FUNCTION ${AUDIT_SCHEMA}.refuse_trail_change();

REVOKE ALL ON ${CHAINS_TABLE}, ${CHAIN_RECORDS_TABLE}, ${CHECKPOINTS_TABLE}, ${CHAIN_ENDS_TABLE} FROM PUBLIC;
GRANT SELECT, INSERT ON ${CHAINS_TABLE}, ${CHAIN_RECORDS_TABLE}, ${CHECKPOINTS_TABLE}, ${CHAIN_ENDS_TABLE}
  TO ${AUDIT_WRITER_ROLE};
`;

export const AUDIT_MIGRATIONS: readonly AuditMigration[] = [
  { version: 1, name: 'append-only hash-chained trail', sql: V1_APPEND_ONLY_TRAIL },
  { version: 2, name: 'one chain per writer, checkpoint chain', sql: V2_CHAIN_PER_WRITER },
];

export const AUDIT_SCHEMA_VERSION = AUDIT_MIGRATIONS[AUDIT_MIGRATIONS.length - 1].version;
