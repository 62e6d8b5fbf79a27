import { createHash, createPublicKey, generateKeyPairSync, randomUUID, verify } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DpopKey } from '@signer/client';
import { generateEmbeddedProfile, type DevAuthority, type EmbeddedProfile } from '@signer/dev';
import { createAuditPool, verifyPostgresAudit } from '@signer/infra-store';
import {
  createThrowawayDatabase,
  freePort,
  privateSignerBundle,
  SHARED_REDIS_URL,
  SignerProcess,
  type PrivateBundle,
  type ThrowawayDatabase,
} from '@signer/testing';
import Redis from 'ioredis';
import { parse, stringify } from 'yaml';
import { newCaller, profileParties, SIGN_PATH } from './harness';
import { deleteKeys } from './redis-harness';

jest.setTimeout(120_000);

/** What callers use: the load balancer in front of the three replicas (one DPoP `htu` for all). */
const PUBLIC_URL = 'http://signer.rotation.test';
const CEREMONIES = '/api/v1/signer/ceremonies';
const REFRESH_INTERVAL_MS = 250;
const MAX_STALENESS_MS = 1500;
/** Concurrent signing callers, round-robin over the replicas, for the whole test. */
const LOAD_CALLERS = 6;
/** Each caller's pause between two requests: load, not a benchmark (2 cores, suites in parallel). */
const LOAD_PAUSE_MS = 10;
const APPROVERS = ['ops-bob', 'ops-carol', 'ops-dave'];

type Caller = { key: DpopKey; token: string };
type Dsse = { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };

interface Answer {
  replica: number;
  status: number;
  body: Record<string, unknown>;
  sentAt: number;
  answeredAt: number;
}

interface PublishedKey {
  keyId: string;
  name: string;
  state: string;
  publicKeyPem: string;
  isDefault: boolean;
  revokedAt?: string;
  history: Array<{ state: string; at: string; ceremonyId?: string }>;
}

interface Ceremony {
  id: string;
  status: string;
  operation: { kind: string };
  approvals: unknown[];
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** DSSE v1 pre-authentication encoding, written here so the check does not reuse the Signer's code. */
const pae = (type: string, payload: Buffer) =>
  Buffer.concat([Buffer.from(`DSSEv1 ${Buffer.byteLength(type)} ${type} ${payload.length} `), payload]);

const fingerprint = (pem: string) =>
  `sha256:${createHash('sha256')
    .update(createPublicKey(pem).export({ type: 'spki', format: 'der' }))
    .digest('hex')}`;

/** The key's state at `time` per its published history (the last transition at or before it). */
const stateAt = (key: PublishedKey, time: number): string | undefined =>
  [...key.history]
    .filter((h) => Date.parse(h.at) <= time)
    .sort((a, b) => Date.parse(a.at) - Date.parse(b.at))
    .at(-1)?.state;

/**
 * Issue #17 acceptance: three Signer processes (the built service) sharing PostgreSQL (managed
 * state, ceremonies, audit) and Redis (quotas) behind one public URL rotate the signing key by
 * dual-control ceremonies while a load generator signs continuously with the default key.
 */
describe('key rotation under load on three replicas (issue #17 acceptance)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signer-rotation-'));
  const prefix = `signer-test:rotation:${randomUUID()}:`;
  const nextPrivate = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const nextFile = join(dir, 'next.pem');
  const replicas: SignerProcess[] = [];
  const answers: Answer[] = [];
  const ceremonyIds: string[] = [];
  let service: PrivateBundle | undefined;
  let db: ThrowawayDatabase;
  let profile: EmbeddedProfile;
  let authority: DevAuthority;
  let poe: string;
  let loading = false;
  let load: Promise<void> = Promise.resolve();
  let loadStartedAt = 0;
  const principals = new Map<string, Caller>();

  const request = async (
    replica: number,
    caller: Caller,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
  ): Promise<Answer> => {
    const sentAt = Date.now();
    const response = await fetch(`${replicas[replica].url}${path}`, {
      method,
      headers: {
        authorization: `DPoP ${caller.token}`,
        dpop: await caller.key.proof({ method, url: `${PUBLIC_URL}${path}`, accessToken: caller.token }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return {
      replica,
      status: response.status,
      body: (await response.json()) as Record<string, unknown>,
      sentAt,
      answeredAt: Date.now(),
    };
  };

  const signBody = () => ({
    subject: [{ name: 'registry.example/app', digest: { sha256: 'cd'.repeat(32) } }],
    predicateType: 'https://stella-ops.org/attestations/sbom/1',
    predicate: { rotation: true },
    scannerImageDigest: profile.scannerImageDigest,
    poe: { format: 'jwt', value: poe },
    // No keyId: the installation default signs, whichever key that is right now.
    options: { signingMode: 'kms' },
  });

  const keysOf = async (replica: number): Promise<PublishedKey[]> =>
    ((await (await fetch(`${replicas[replica].url}/api/v1/signer/keys`)).json()) as { keys: PublishedKey[] })
      .keys;

  const untilEveryReplica = async (seen: (keys: PublishedKey[]) => boolean): Promise<void> => {
    const deadline = Date.now() + MAX_STALENESS_MS + 1000;
    const waiting = new Set(replicas.keys());
    while (waiting.size > 0 && Date.now() < deadline) {
      for (const replica of [...waiting]) if (seen(await keysOf(replica))) waiting.delete(replica);
      if (waiting.size > 0) await pause(50);
    }
    expect([...waiting]).toEqual([]);
  };

  /** Runs one ceremony across the replicas: create, the given votes, execute; returns its id. */
  const ceremony = async (operation: Record<string, unknown>, approvers: string[]): Promise<string> => {
    const alice = principals.get('ops-alice') as Caller;
    const created = await request(0, alice, 'POST', CEREMONIES, { operation });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    ceremonyIds.push(id);
    // The initiator holds the approve scope too, and still may not vote on her own proposal.
    const self = await request(1, alice, 'POST', `${CEREMONIES}/${id}/approve`);
    expect(self).toMatchObject({ status: 403, body: { code: 'ceremony_self_approval' } });
    for (const [index, sub] of approvers.entries()) {
      const vote = await request(
        (index + 1) % 3,
        principals.get(sub) as Caller,
        'POST',
        `${CEREMONIES}/${id}/approve`,
      );
      expect(vote.status).toBe(200);
    }
    const executed = await request(2, alice, 'POST', `${CEREMONIES}/${id}/execute`);
    expect(executed).toMatchObject({ status: 200, body: { status: 'executed' } });
    return id;
  };

  const runLoad = async (worker: number, caller: Caller): Promise<void> => {
    let replica = worker % 3;
    while (loading) {
      answers.push(await request(replica, caller, 'POST', SIGN_PATH, signBody()));
      replica = (replica + 1) % 3;
      await pause(LOAD_PAUSE_MS);
    }
  };

  const signedSince = (since: number) => answers.filter((a) => a.sentAt >= since && a.status === 200);
  const keyidOf = (answer: Answer) =>
    ((answer.body['bundle'] as { dsse: Dsse }).dsse.signatures[0] as { keyid: string }).keyid;

  beforeAll(async () => {
    writeFileSync(nextFile, nextPrivate.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    db = await createThrowawayDatabase('signer_rotation');
    [service, profile] = await Promise.all([
      privateSignerBundle('key-rotation-acceptance'),
      generateEmbeddedProfile(join(dir, 'profile'), { nonce: 'optional' }),
    ]);
    const raw = parse(readFileSync(profile.configPath, 'utf8')) as Record<string, Record<string, unknown>>;
    raw['server'] = { ...raw['server'], publicBaseUrl: PUBLIC_URL, readinessCacheMs: 0 };
    const plenty = {
      qps: 100000,
      burst: 100000,
      concurrency: 1000,
      maxArtifactBytes: 1048576,
      dailyCap: 1e9,
    };
    raw['quotas'] = {
      ...raw['quotas'],
      store: 'redis',
      redisUrl: SHARED_REDIS_URL,
      redisKeyPrefix: prefix,
      plans: { pro: plenty },
    };
    raw['state'] = {
      store: 'postgres',
      postgresUrl: db.url,
      refreshIntervalMs: REFRESH_INTERVAL_MS,
      maxStalenessMs: MAX_STALENESS_MS,
    };
    raw['ceremonies'] = { approvers: APPROVERS };
    raw['audit'] = { sink: 'postgres', postgresUrl: db.url };
    writeFileSync(profile.configPath, stringify(raw));

    const parties = await profileParties(profile);
    authority = parties.authority;
    poe = await parties.licensing.mintPoe({
      license_id: 'lic-rotation',
      tenant: profile.tenant,
      installation: profile.installation,
      plan: 'pro',
      valid_release_year: 2030,
      max_version: '1.99.99',
      limits: { qps: 100000, burst: 100000, concurrency: 1000 },
    });
    principals.set(
      'ops-alice',
      await newCaller(authority, profile, {
        subject: 'ops-alice',
        scope: 'signer.ceremony.initiate signer.ceremony.approve',
      }),
    );
    for (const sub of APPROVERS)
      principals.set(
        sub,
        await newCaller(authority, profile, { subject: sub, scope: 'signer.ceremony.approve' }),
      );

    for (let index = 0; index < 3; index += 1) {
      // One at a time: the first seeds the state store and migrates the schemas, the others load them.
      const port = await freePort();
      replicas.push(
        await SignerProcess.start({
          bundle: service.main,
          port,
          stdout: 'drain',
          env: { SIGNER_CONFIG: profile.configPath, SIGNER__SERVER__ADMINPORT: String(await freePort()) },
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    loading = false;
    await load;
    await Promise.all(replicas.map((replica) => replica.stop()));
    const redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await db?.drop();
    service?.remove();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('registers, activates, switches the default to, retires and revokes keys while signing never fails', async () => {
    const [seeded] = await keysOf(0);
    expect(seeded).toMatchObject({ name: 'default', state: 'active', isDefault: true });
    const callers = await Promise.all(
      Array.from({ length: LOAD_CALLERS }, () => newCaller(authority, profile)),
    );
    loading = true;
    loadStartedAt = Date.now();
    load = Promise.all(callers.map((caller, worker) => runLoad(worker, caller))).then(() => undefined);
    await pause(1000);

    // (a) register `next`: published as pending on every replica before it signs anything.
    await ceremony({ kind: 'key.register', name: 'next', ref: `file://${nextFile}` }, [
      'ops-bob',
      'ops-dave',
    ]);
    await untilEveryReplica((keys) => keys.some((k) => k.name === 'next' && k.state === 'pending'));
    const nextKeyId = fingerprint(
      createPublicKey(nextPrivate).export({ type: 'spki', format: 'pem' }).toString(),
    );
    expect(answers.filter((a) => a.status === 200).some((a) => keyidOf(a) === nextKeyId)).toBe(false);

    // (b) activate (2 of 3), make it the installation default (2 of 3), retire the old one (2 of 3).
    await ceremony({ kind: 'key.activate', name: 'next' }, ['ops-bob', 'ops-carol']);
    await ceremony({ kind: 'key.set-default', name: 'next' }, ['ops-carol', 'ops-dave']);
    await untilEveryReplica((keys) => keys.some((k) => k.name === 'next' && k.isDefault));
    const switchedAt = Date.now();
    await pause(500);
    expect(signedSince(switchedAt).length).toBeGreaterThan(0);
    expect(signedSince(switchedAt).every((a) => keyidOf(a) === nextKeyId)).toBe(true);
    // The runbook: retire only once every replica signs with the successor. Earlier, a replica
    // still on the old view may sign with the retired key for up to maxStalenessMs (the bound
    // allows it), and its bundles would not find the key active at their signing time.
    await ceremony({ kind: 'key.retire', name: 'default' }, ['ops-dave', 'ops-bob']);
    await untilEveryReplica((keys) => keys.some((k) => k.name === 'default' && k.state === 'retired'));

    // (c) revoke the retired key (2 of 3); keep signing past commit + maxStalenessMs.
    await ceremony({ kind: 'key.revoke', name: 'default', reason: 'acceptance: rotation done' }, [
      'ops-bob',
      'ops-dave',
    ]);
    await untilEveryReplica((keys) => keys.some((k) => k.name === 'default' && k.state === 'revoked'));
    await pause(MAX_STALENESS_MS + 500);
    loading = false;
    await load;
    console.info(
      `rotation acceptance: ${answers.length} sign requests over ${Date.now() - loadStartedAt} ms, ` +
        `${ceremonyIds.length} ceremonies`,
    );

    // Zero failed sign requests: every answer of the whole run was 200.
    const failed = answers.filter((a) => a.status !== 200);
    expect(failed.map((a) => `${a.status} ${String(a.body['code'])} ${String(a.body['detail'])}`)).toEqual(
      [],
    );
    expect(answers.length).toBeGreaterThan(100);

    // Every bundle verifies against the key /keys publishes for its keyid, active at its signing time.
    const published = await keysOf(1);
    expect(published.find((k) => k.name === 'next')).toMatchObject({
      keyId: nextKeyId,
      state: 'active',
      isDefault: true,
    });
    expect(published.find((k) => k.name === 'default')).toMatchObject({
      keyId: seeded.keyId,
      state: 'revoked',
      revocationReason: 'acceptance: rotation done',
    });
    expect(published.find((k) => k.name === 'default')?.history.map((h) => h.state)).toEqual([
      'active',
      'retired',
      'revoked',
    ]);
    expect(published.find((k) => k.name === 'next')?.history.map((h) => h.state)).toEqual([
      'pending',
      'active',
    ]);
    const byKeyId = new Map(published.map((k) => [k.keyId, k]));
    // The bound runs from the commit (the executing replica's clock, the same machine's).
    const revokedAt = Date.parse(published.find((k) => k.name === 'default')?.revokedAt as string);
    expect(answers.filter((a) => a.sentAt > revokedAt + MAX_STALENESS_MS).length).toBeGreaterThan(0);
    const pool = createAuditPool({ connectionString: db.url, poolSize: 1 });
    try {
      const rows = await pool.query<{ record: string }>('SELECT record FROM signer_audit.chain_records');
      const records = rows.rows.map((row) => JSON.parse(row.record) as Record<string, unknown>);
      const byAuditId = new Map(records.map((r) => [r['auditId'] as string, r]));
      const used = new Set<string>();
      for (const answer of answers) {
        const dsse = (answer.body['bundle'] as { dsse: Dsse }).dsse;
        const key = byKeyId.get(dsse.signatures[0].keyid) as PublishedKey;
        expect(key.keyId).toBe(fingerprint(key.publicKeyPem));
        const signature = Buffer.from(dsse.signatures[0].sig, 'base64');
        const message = pae(dsse.payloadType, Buffer.from(dsse.payload, 'base64'));
        expect(verify('sha256', message, key.publicKeyPem, signature)).toBe(true);
        // One `signed` record per 200; its time (the decision's start) finds the key active.
        const record = byAuditId.get(answer.body['auditId'] as string);
        expect(record).toMatchObject({ outcome: 'signed', keyId: key.keyId });
        expect(stateAt(key, Date.parse(record?.['time'] as string))).toBe('active');
        used.add(key.name);
        // No signature with the revoked key was decided once its revocation committed and the bound passed.
        if (Date.parse(record?.['time'] as string) > revokedAt + MAX_STALENESS_MS)
          expect(key.name).not.toBe('default');
      }
      expect(used).toEqual(new Set(['default', 'next']));
      expect(records.filter((r) => r['outcome'] === 'signed')).toHaveLength(answers.length);

      // Every ceremony event is a `ceremony` record, and the whole trail verifies.
      expect(ceremonyIds).toHaveLength(5);
      for (const id of ceremonyIds) {
        const events = records
          .filter((r) => r['outcome'] === 'ceremony' && (r['ceremony'] as { id?: string })?.id === id)
          .map((r) => (r['ceremony'] as { event: string }).event);
        const stored = (await request(0, principals.get('ops-bob') as Caller, 'GET', `${CEREMONIES}/${id}`))
          .body as unknown as Ceremony;
        expect(stored.status).toBe('executed');
        expect(events.sort()).toEqual(
          ['initiated', 'threshold_reached', 'executed', ...stored.approvals.map(() => 'approved')].sort(),
        );
      }
      await expect(verifyPostgresAudit(pool)).resolves.toMatchObject({ ok: true });
    } finally {
      await pool.end();
    }
  });
});
