import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DpopKey } from '@signer/client';
import { startDistSigner, type DistSigner } from '@signer/testing';
import { run } from '../src/main';
import { capturedIo, type CapturedRun } from './captured-io';

jest.setTimeout(60_000);

/** `signer ceremony …` against the built service: a 2-of-3 revocation driven only by the CLI. */
describe('signer ceremony', () => {
  let signer: DistSigner;
  let work: string;

  /** A principal's files: its DPoP key and an OpTok for `subject` with `scope`. */
  async function principal(subject: string, scope: string, files = subject): Promise<string[]> {
    const key = await DpopKey.generate();
    writeFileSync(join(work, `${files}.jwk.json`), JSON.stringify(await key.toPrivateJwk()), {
      mode: 0o600,
    });
    writeFileSync(
      join(work, `${files}.jwt`),
      await signer.mintToken({ jkt: key.thumbprint }, { subject, scope }),
      {
        mode: 0o600,
      },
    );
    return ['--url', signer.url, '--token-file', `${files}.jwt`, '--dpop-key', `${files}.jwk.json`];
  }

  const cli = async (...argv: string[]): Promise<CapturedRun> => {
    const io = capturedIo(work);
    const code = await run(argv, io);
    return { code, stdout: io.out.join(''), stderr: io.err.join('') };
  };

  let alice: string[];
  let bob: string[];
  let carol: string[];

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'signer-cli-ceremony-'));
    signer = await startDistSigner();
    alice = await principal('ops-alice', 'signer.ceremony.initiate');
    bob = await principal('ops-bob', 'signer.ceremony.approve');
    carol = await principal('ops-carol', 'signer.ceremony.approve');
  });

  afterAll(async () => {
    await signer?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  describe('when three principals revoke a key', () => {
    let id: string;

    it('creates the ceremony and prints id, status, approvals/threshold and the operation', async () => {
      const result = await cli(
        'ceremony',
        'create',
        '--op',
        'key.revoke',
        '--key',
        'operator',
        '--reason',
        'leaked',
        ...alice,
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
      expect(result.stdout).toMatch(/^[0-9a-f-]{36}\tpending\t0\/2\tkey\.revoke operator\n$/);
      id = result.stdout.split('\t')[0];
    });

    it('refuses the initiator approving (exit 1, the contract code on stderr)', async () => {
      const selfApprover = await principal('ops-alice', 'signer.ceremony.approve', 'ops-alice-approver');
      const result = await cli('ceremony', 'approve', id, ...selfApprover);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('ceremony_self_approval');
    });

    it('approves twice, then executes; --json prints the ceremony', async () => {
      expect((await cli('ceremony', 'approve', id, ...bob)).stdout).toContain('\tpending\t1/2\t');
      expect((await cli('ceremony', 'approve', id, ...carol)).stdout).toContain('\tapproved\t2/2\t');
      const executed = await cli('ceremony', 'execute', id, ...alice, '--json');
      expect(executed.code).toBe(0);
      expect(JSON.parse(executed.stdout)).toMatchObject({
        id,
        status: 'executed',
        executedBy: { sub: 'ops-alice' },
        operation: { kind: 'key.revoke', name: 'operator', reason: 'leaked' },
      });
    });

    it('gets and lists it', async () => {
      expect((await cli('ceremony', 'get', id, ...bob)).stdout).toMatch(
        /\texecuted\t2\/2\tkey\.revoke operator → state v\d+\n$/,
      );
      const listed = await cli(
        'ceremony',
        'list',
        '--status',
        'executed',
        '--limit',
        '10',
        ...alice,
        '--json',
      );
      expect(JSON.parse(listed.stdout).ceremonies.map((c: { id: string }) => c.id)).toEqual([id]);
    });
  });

  describe('when a ceremony is rejected or cancelled', () => {
    it('rejects with a reason, and cancels as the initiator', async () => {
      const first = await cli(
        'ceremony',
        'create',
        '--op',
        'key.set-default',
        '--key',
        'operator',
        '--plan',
        'pro',
        ...alice,
      );
      const rejected = await cli(
        'ceremony',
        'reject',
        first.stdout.split('\t')[0],
        '--reason',
        'not now',
        ...bob,
      );
      expect(rejected.stdout).toContain('\trejected\t');
      const second = await cli('ceremony', 'create', '--op', 'key.activate', '--key', 'operator', ...alice);
      const cancelled = await cli('ceremony', 'cancel', second.stdout.split('\t')[0], ...alice);
      expect(cancelled.stdout).toContain('\tcancelled\t0/2\tkey.activate operator');
    });
  });

  describe('when the arguments are wrong', () => {
    it.each([
      [['ceremony'], 'expected create, list'],
      [['ceremony', 'create', '--op', 'key.revoke', '--key', 'k'], '--reason is required'],
      [['ceremony', 'create', '--op', 'key.delete', '--key', 'k'], '--op expected one of'],
      [['ceremony', 'create', '--op', 'key.activate', '--key', 'k', '--plan', 'p'], '--plan does not apply'],
      [['ceremony', 'reject', '01900000-0000-7000-8000-000000000000'], '--reason is required'],
      [['ceremony', 'list', '--limit', '101'], '--limit expected an integer from 1 to 100'],
      [['ceremony', 'approve'], 'expected <id>'],
    ])('%j exits 2 with a usage message', async (argv, message) => {
      const result = await cli(...argv, ...alice);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(message);
    });

    it('passes the Signer refusal of a malformed id through (exit 1, invalid_request)', async () => {
      const result = await cli('ceremony', 'get', 'not-an-id', ...bob);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('invalid_request');
    });
  });
});
