import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRecord } from '@signer/core';
import { FileAuditSink, PostgresAuditSink } from '@signer/infra-store';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { run } from '../src/main';
import { capturedIo, type CapturedRun } from './captured-io';

jest.setTimeout(30_000);

const at = (minute: number) => new Date(Date.UTC(2026, 5, 1, 12, minute)).toISOString();

function record(n: number, tenant: string | undefined): AuditRecord {
  return {
    auditId: `0190a000-0000-7000-8000-${String(n).padStart(12, '0')}`,
    time: at(n),
    correlationId: `corr-${n}`,
    route: 'POST /api/v1/signer/sign/dsse',
    outcome: 'signed',
    ...(tenant ? { tenant } : {}),
    gates: { optok: 'pass' },
    latencyMs: n,
  };
}

const TENANTS = ['tenant-a', 'tenant-b', 'tenant-a', undefined, 'tenant-a'];

describe('signer audit', () => {
  let work: string;
  let auditFile: string;
  let db: ThrowawayDatabase;

  const cli = async (argv: string[]): Promise<CapturedRun> => {
    const io = capturedIo(work);
    const code = await run(argv, io);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  };
  const ids = (jsonLines: string) =>
    jsonLines
      .split('\n')
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as AuditRecord).auditId);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'signer-cli-audit-'));
    auditFile = join(work, 'audit.jsonl');
    const file = await FileAuditSink.open({ filePath: auditFile });
    db = await createThrowawayDatabase('signer_cli_audit');
    const postgres = await PostgresAuditSink.open({ connectionString: db.url });
    for (const [n, tenant] of TENANTS.entries()) {
      await file.append(record(n, tenant));
      await postgres.append(record(n, tenant));
    }
    await Promise.all([file.close(), postgres.close()]);
  });

  afterAll(async () => {
    await db.drop();
    rmSync(work, { recursive: true, force: true });
  });

  describe('when verify walks an intact trail', () => {
    it.each([
      ['a file', () => 'audit.jsonl', ''],
      // The legacy chain (empty) and the one writer's chain, pinned by its closing checkpoint.
      ['PostgreSQL', () => db.url, ' in 2 chains, 1 checkpoints'],
    ])('reports %s intact with its record count', async (_kind, source, spread) => {
      const result = await cli(['audit', 'verify', source()]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(
        new RegExp(`^audit trail intact: 5 records${spread}, last hash [0-9a-f]{64}\n$`),
      );
    });
  });

  describe('when verify runs with --json', () => {
    it('prints the result as one JSON document', async () => {
      const result = await cli(['audit', 'verify', 'audit.jsonl', '--json']);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        intact: true,
        count: 5,
        lastHash: expect.stringMatching(/^[0-9a-f]{64}$/),
      });
    });
  });

  describe('when verify walks a tampered trail', () => {
    it('reports the first broken link of a file and exits 1', async () => {
      const tampered = join(work, 'tampered.jsonl');
      const lines = readFileSync(auditFile, 'utf8').split('\n');
      lines[2] = lines[2].replace('"latencyMs":2', '"latencyMs":20');
      writeFileSync(tampered, lines.join('\n'));
      const result = await cli(['audit', 'verify', tampered]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('audit trail broken at record #3');
    });

    it('reports the first broken link in PostgreSQL and exits 1', async () => {
      const copy = await createThrowawayDatabase('signer_cli_tamper');
      try {
        const sink = await PostgresAuditSink.open({ connectionString: copy.url });
        for (const [n, tenant] of TENANTS.entries()) await sink.append(record(n, tenant));
        await sink.close();
        await copy.sql(
          `BEGIN; SET LOCAL session_replication_role = replica;
           UPDATE signer_audit.chain_records SET record = replace(record, 'corr-3', 'corr-X') WHERE seq = 4; COMMIT;`,
        );
        const result = await cli(['audit', 'verify', copy.url]);
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(
          /^audit trail broken at record #4: seq 4 \(auditId [^)]+\): expected hash/,
        );
      } finally {
        await copy.drop();
      }
    });
  });

  describe('when export runs', () => {
    it.each([
      ['a file', () => 'audit.jsonl'],
      ['PostgreSQL', () => db.url],
    ])("writes only the tenant's records since the instant, from %s", async (_kind, source) => {
      const result = await cli([
        'audit',
        'export',
        '--tenant',
        'tenant-a',
        '--since',
        at(1),
        '--source',
        source(),
      ]);
      expect(result.code).toBe(0);
      expect(ids(result.stdout)).toEqual([record(2, 'tenant-a').auditId, record(4, 'tenant-a').auditId]);
      expect(result.stdout).not.toContain('tenant-b');
      expect(result.stderr).toContain('exported 2 records for tenant tenant-a');
    });

    it('writes to --out with owner-only permissions', async () => {
      const result = await cli([
        'audit',
        'export',
        '--tenant',
        'tenant-b',
        '--since',
        '2026-01-01T00:00:00Z',
        '--source',
        'audit.jsonl',
        '--out',
        'b.jsonl',
      ]);
      expect(result).toMatchObject({ code: 0, stdout: '' });
      expect(ids(readFileSync(join(work, 'b.jsonl'), 'utf8'))).toEqual([record(1, 'tenant-b').auditId]);
      expect(statSync(join(work, 'b.jsonl')).mode & 0o777).toBe(0o600);
    });

    it.each([
      [['--since', at(0), '--source', 'audit.jsonl'], '--tenant is required'],
      [
        ['--tenant', 't', '--since', 'yesterday', '--source', 'audit.jsonl'],
        '--since expected an RFC 3339 time',
      ],
      [['--tenant', 't', '--since', at(0), '--source', 'missing.jsonl'], 'no such audit file'],
    ])('refuses %j', async (args, message) => {
      const result = await cli(['audit', 'export', ...args]);
      expect(result.code).toBeGreaterThan(0);
      expect(result.stderr).toContain(message);
    });
  });

  describe('when migrate runs against a fresh database', () => {
    it('applies the schema once, then finds nothing to apply', async () => {
      const fresh = await createThrowawayDatabase('signer_cli_migrate');
      try {
        expect((await cli(['audit', 'migrate', fresh.url])).stdout).toBe(
          'audit schema at version 2 (applied 1, 2)\n',
        );
        expect((await cli(['audit', 'migrate', fresh.url])).stdout).toBe(
          'audit schema at version 2 (nothing to apply)\n',
        );
      } finally {
        await fresh.drop();
      }
    });
  });

  describe('when an operator reviews the open chains', () => {
    it("lists a running writer's chain and refuses to end it while it appends; an ended trail has none open", async () => {
      expect(await cli(['audit', 'chains', db.url])).toMatchObject({ code: 0, stdout: 'no open chain\n' });
      const fresh = await createThrowawayDatabase('signer_cli_chains');
      const running = await PostgresAuditSink.open({ connectionString: fresh.url });
      try {
        // Idle time is measured from the last record's time: a record of now, as a running replica writes.
        await running.append({ ...record(1, 'tenant-a'), time: new Date().toISOString() });
        const listed = await cli(['audit', 'chains', fresh.url]);
        expect(listed.code).toBe(0);
        const [chainId, host, pid, seq] = listed.stdout.trim().split('\t');
        expect({ chainId, pid, seq }).toEqual({
          chainId: running.chainId,
          pid: String(process.pid),
          seq: '1',
        });
        expect(host).toBeTruthy();
        expect(JSON.parse((await cli(['audit', 'chains', fresh.url, '--json'])).stdout)).toMatchObject({
          chains: [{ chainId: running.chainId, headSeq: 1, pid: process.pid }],
        });

        const refused = await cli(['audit', 'end-chain', running.chainId, fresh.url]);
        expect(refused.code).toBe(1);
        expect(refused.stdout).toMatch(
          new RegExp(
            `^not ended: chain ${running.chainId}: expected no record for at least 600 s, got one .* still running\\?\\)\n$`,
          ),
        );
        const unknown = await cli([
          'audit',
          'end-chain',
          'no-such-chain',
          fresh.url,
          '--min-idle-seconds',
          '0',
        ]);
        expect(unknown).toMatchObject({ code: 1 });
        expect(unknown.stdout).toContain('expected an open writer chain of this trail, got none');
        const usage = await cli([
          'audit',
          'end-chain',
          running.chainId,
          fresh.url,
          '--min-idle-seconds',
          'soon',
        ]);
        expect(usage.code).toBe(2);
        expect(usage.stderr).toContain('--min-idle-seconds expected an integer ≥ 0, got soon');
      } finally {
        await running.close();
        await fresh.drop();
      }
    });
  });

  describe('when PostgreSQL cannot be reached', () => {
    it('exits 3 (unreachable) with the cause and without echoing the URL', async () => {
      const result = await cli(['audit', 'verify', 'postgres://signer:s3cret@127.0.0.1:9/nowhere']);
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('ECONNREFUSED');
      expect(result.stderr).not.toContain('s3cret');
    });
  });

  describe('when the subcommand is unknown', () => {
    it('exits 2 with the audit usage', async () => {
      const result = await cli(['audit', 'shred']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('signer audit verify');
    });
  });
});
