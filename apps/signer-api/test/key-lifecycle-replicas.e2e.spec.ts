import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_ROTATION_PROFILE,
  preAuthEncoding,
  spkiFingerprint,
  StateAdministrator,
  systemClock,
} from '@signer/core';
import type { DpopKey } from '@signer/client';
import { generateEmbeddedProfile, type DevLicensing, type EmbeddedProfile } from '@signer/dev';
import { PostgresManagedStateStore } from '@signer/infra-store';
import {
  createThrowawayDatabase,
  freePort,
  privateSignerBundle,
  SignerProcess,
  TcpProxy,
  type PrivateBundle,
  type ThrowawayDatabase,
} from '@signer/testing';
import { newCaller, postSign, profileParties, validBody } from './harness';

/** The bound under test (contract §11): a replica refuses to sign once its view is older than this. */
const MAX_STALENESS_MS = 1500;
const REFRESH_INTERVAL_MS = 250;
/** A replica that is neither stale nor current cannot exist; this only absorbs HTTP polling. */
const POLL_SLACK_MS = 1000;

interface Replica {
  name: string;
  signer: SignerProcess;
  adminPort: number;
}

interface PublishedKey {
  keyId: string;
  name: string;
  state: string;
  publicKeyPem: string;
  isDefault: boolean;
}

interface SignOutcome {
  replica: string;
  status: number;
  code?: string;
  keyid?: string;
  sentAt: number;
  dsse?: { payloadType: string; payload: string; signatures: Array<{ keyid: string; sig: string }> };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('key lifecycle shared by three signer processes (state.store postgres)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signer-lifecycle-'));
  const replicas: Replica[] = [];
  let service: PrivateBundle | undefined;
  let db: ThrowawayDatabase;
  let store: PostgresManagedStateStore;
  let admin: StateAdministrator;
  let profile: EmbeddedProfile;
  let licensing: DevLicensing;
  let caller: { key: DpopKey; token: string };
  let poe: string;
  let proxy: TcpProxy;
  // The successor key, registered through the administrator as a ceremony would.
  const next = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const nextFile = join(dir, 'next.pem');

  const keysOf = async (replica: Replica): Promise<PublishedKey[]> =>
    ((await (await fetch(`${replica.signer.url}/api/v1/signer/keys`)).json()) as { keys: PublishedKey[] })
      .keys;

  const sign = async (replica: Replica, keyId?: string): Promise<SignOutcome> => {
    const sentAt = Date.now();
    const response = await postSign(
      replica.signer.url,
      caller,
      validBody(
        { profile, poe },
        { options: { signingMode: 'kms', ...(keyId === undefined ? {} : { keyId }) } },
      ),
    );
    const body = (await response.json()) as { code?: string; bundle?: { dsse: SignOutcome['dsse'] } };
    const dsse = body.bundle?.dsse;
    return {
      replica: replica.name,
      status: response.status,
      code: body.code,
      keyid: dsse?.signatures[0].keyid,
      sentAt,
      dsse,
    };
  };

  /** Verifies a DSSE with node:crypto against the key a replica publishes at /keys. */
  const verifiesWith = (dsse: SignOutcome['dsse'], publicKeyPem: string) =>
    dsse !== undefined &&
    verify(
      'sha256',
      preAuthEncoding(dsse.payloadType, Buffer.from(dsse.payload, 'base64')),
      publicKeyPem,
      Buffer.from(dsse.signatures[0].sig, 'base64'),
    );

  /** Polls every replica's /keys until `seen` holds on all of them; returns the time it took. */
  const untilAll = async (seen: (keys: PublishedKey[]) => boolean): Promise<number> => {
    const started = Date.now();
    const deadline = started + MAX_STALENESS_MS + POLL_SLACK_MS;
    const pending = new Set(replicas);
    while (pending.size > 0 && Date.now() < deadline) {
      for (const replica of [...pending]) if (seen(await keysOf(replica))) pending.delete(replica);
      if (pending.size > 0) await pause(50);
    }
    expect([...pending].map((r) => r.name)).toEqual([]);
    return Date.now() - started;
  };

  beforeAll(async () => {
    writeFileSync(nextFile, next.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    db = await createThrowawayDatabase('signer_lifecycle');
    const [bundle, generated] = await Promise.all([
      privateSignerBundle('key-lifecycle-replicas'),
      generateEmbeddedProfile(join(dir, 'profile'), { nonce: 'optional', stateStore: 'memory' }),
    ]);
    [service, profile] = [bundle, generated];
    const parties = await profileParties(profile);
    licensing = parties.licensing;
    caller = await newCaller(parties.authority, profile);
    poe = await licensing.mintPoe({
      license_id: 'lic-lifecycle',
      tenant: profile.tenant,
      installation: profile.installation,
      plan: 'pro',
      valid_release_year: 2030,
      max_version: '1.99.99',
      limits: { qps: 1000, burst: 1000, concurrency: 100 },
    });
    // Replica c reaches PostgreSQL through a proxy the test can cut.
    proxy = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(db.url).port || 5432) });
    const viaProxy = new URL(db.url);
    viaProxy.hostname = '127.0.0.1';
    viaProxy.port = String(proxy.port);
    for (const name of ['a', 'b', 'c']) {
      // One at a time: the first seeds the store from the profile, the others load that seed.
      const [port, adminPort] = [await freePort(), await freePort()];
      const signer = await SignerProcess.start({
        bundle: bundle.main,
        port,
        auditFile: join(dir, 'audit', `${name}.jsonl`),
        stdout: 'drain',
        env: {
          SIGNER_CONFIG: profile.configPath,
          SIGNER__SERVER__PUBLICBASEURL: `http://127.0.0.1:${port}`,
          SIGNER__SERVER__ADMINPORT: String(adminPort),
          SIGNER__SERVER__READINESSCACHEMS: '0',
          SIGNER__STATE__STORE: 'postgres',
          SIGNER__STATE__POSTGRESURL: name === 'c' ? viaProxy.toString() : db.url,
          SIGNER__STATE__REFRESHINTERVALMS: String(REFRESH_INTERVAL_MS),
          SIGNER__STATE__MAXSTALENESSMS: String(MAX_STALENESS_MS),
        },
      });
      replicas.push({ name, signer, adminPort });
    }
    store = await PostgresManagedStateStore.open({ connectionString: db.url });
    const nextPem = createPublicKey(next).export({ type: 'spki', format: 'pem' }).toString();
    admin = new StateAdministrator({
      store,
      clock: systemClock,
      profiles: { default: DEFAULT_ROTATION_PROFILE },
      // What a replica's inspector reports for this file (checked below against /keys).
      inspect: async () => ({ keyId: spkiFingerprint(nextPem), algorithm: 'ES256', publicKeyPem: nextPem }),
    });
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.signer.stop()));
    await proxy?.close();
    await store?.close();
    await db?.drop();
    service?.remove();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('publishes one seeded state on every replica; bundles carry the key fingerprint and verify', async () => {
    const published = await Promise.all(replicas.map(keysOf));
    expect(published[1]).toEqual(published[0]);
    expect(published[2]).toEqual(published[0]);
    const [seeded] = published[0];
    expect(seeded).toMatchObject({ name: 'default', state: 'active', isDefault: true });
    expect(seeded.keyId).toBe(spkiFingerprint(seeded.publicKeyPem));
    for (const replica of replicas) {
      const outcome = await sign(replica);
      expect(outcome).toMatchObject({ status: 200, keyid: seeded.keyId });
      expect(verifiesWith(outcome.dsse, seeded.publicKeyPem)).toBe(true);
    }
  });

  it('applies a registration, activation and new default on every replica within the bound', async () => {
    const ref = `file://${nextFile}`;
    await admin.apply({ kind: 'key.register', name: 'next', ref }, 'ceremony-register');
    const pendingAfter = await untilAll((keys) =>
      keys.some((k) => k.name === 'next' && k.state === 'pending'),
    );
    // Published before it may sign.
    for (const replica of replicas)
      expect(await sign(replica, 'next')).toMatchObject({ status: 409, code: 'key_not_active' });
    await admin.apply({ kind: 'key.activate', name: 'next' }, 'ceremony-activate');
    await admin.apply({ kind: 'key.set-default', name: 'next' }, 'ceremony-default');
    const defaultAfter = await untilAll((keys) => keys.some((k) => k.name === 'next' && k.isDefault));
    console.info(
      `registration seen by all replicas after ${pendingAfter} ms, new default after ${defaultAfter} ms`,
    );
    const nextKey = (await keysOf(replicas[0])).find((k) => k.name === 'next') as PublishedKey;
    expect(nextKey.keyId).toBe(spkiFingerprint(next));
    for (const replica of replicas) {
      const outcome = await sign(replica);
      expect(outcome).toMatchObject({ status: 200, keyid: nextKey.keyId });
      expect(verifiesWith(outcome.dsse, nextKey.publicKeyPem)).toBe(true);
    }
  });

  it('stops every replica signing with a revoked key at most maxStalenessMs after the commit', async () => {
    const revoked = (await keysOf(replicas[0])).find((k) => k.name === 'default') as PublishedKey;
    // Traffic naming the key runs on all replicas across the revocation.
    let running = true;
    const outcomes: SignOutcome[] = [];
    const traffic = replicas.map(async (replica) => {
      while (running) outcomes.push(await sign(replica, 'default'));
    });
    await pause(300);
    await admin.apply(
      { kind: 'key.revoke', name: 'default', reason: 'e2e: suspected compromise' },
      'ceremony-revoke',
    );
    const committedAt = Date.now();
    await pause(MAX_STALENESS_MS + 500);
    running = false;
    await Promise.all(traffic);

    const signedBefore = outcomes.filter((o) => o.status === 200);
    expect(signedBefore.length).toBeGreaterThan(0);
    for (const o of signedBefore) expect(o.keyid).toBe(revoked.keyId);
    // Every request sent after commit + bound was refused, on every replica.
    const late = outcomes.filter((o) => o.sentAt > committedAt + MAX_STALENESS_MS);
    expect(new Set(late.map((o) => o.replica))).toEqual(new Set(['a', 'b', 'c']));
    expect(late.every((o) => o.status === 409 && o.code === 'key_not_active')).toBe(true);
    // The audit trails agree: no decision to sign with the revoked key began after the bound.
    for (const replica of replicas) {
      const signed = replica.signer
        .auditLines()
        .filter((r) => r['outcome'] === 'signed' && r['keyId'] === revoked.keyId);
      for (const record of signed)
        expect(Date.parse(record['time'] as string)).toBeLessThanOrEqual(committedAt + MAX_STALENESS_MS);
    }
    const published = await Promise.all(replicas.map(keysOf));
    for (const keys of published) {
      expect(keys.find((k) => k.name === 'default')).toMatchObject({
        state: 'revoked',
        revocationReason: 'e2e: suspected compromise',
        revokedAt: expect.any(String),
        isDefault: false,
      });
    }
  });

  it('refuses to sign on a replica cut off from the state store, and reports it not ready', async () => {
    const c = replicas[2];
    proxy.cut();
    try {
      await pause(MAX_STALENESS_MS + 2 * REFRESH_INTERVAL_MS);
      expect(await sign(c)).toMatchObject({ status: 503, code: 'upstream_unavailable' });
      const admin = await fetch(`http://127.0.0.1:${c.adminPort}/readyz`);
      expect(admin.status).toBe(503);
      const body = (await admin.json()) as {
        dependencies: Record<string, string>;
        details: { state: { stale: boolean } };
      };
      expect(body.dependencies['state']).toBe('unavailable');
      expect(body.details.state.stale).toBe(true);
      // The others still sign.
      expect(await sign(replicas[0])).toMatchObject({ status: 200 });
    } finally {
      proxy.restore();
    }
    const deadline = Date.now() + MAX_STALENESS_MS + POLL_SLACK_MS;
    let outcome = await sign(c);
    while (outcome.status !== 200 && Date.now() < deadline) {
      await pause(100);
      outcome = await sign(c);
    }
    expect(outcome.status).toBe(200);
  });
});
