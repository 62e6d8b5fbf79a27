import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateEmbeddedProfile,
  type DevAuthority,
  type DevLicensing,
  type EmbeddedProfile,
} from '@signer/dev';
import {
  freePort,
  privateSignerBundle,
  RedisClusterProcesses,
  SignerProcess,
  type PrivateBundle,
} from '@signer/testing';
import { Cluster } from 'ioredis';
import { newCaller, postSign, profileParties, validBody } from './harness';
import { verifyDsseIndependently } from './independent-verify';

interface Outcome {
  status: number;
  code?: string;
  limit?: string;
  dsse?: { payloadType: string; payload: string; signatures: Array<{ sig: string }> };
}

const DAILY_CAP = 4;
const LICENCES = ['lic-c1', 'lic-c2', 'lic-c3', 'lic-c4'];

/**
 * Two Signer processes (the real service bundle) whose shared state is a Redis Cluster of 3
 * masters + 3 replicas, configured through `quotas.redis` (mode cluster, seed nodes,
 * minReplicaAcks 1): they sign, and the daily caps of licences on different masters hold across
 * both processes.
 */
describe('quotas.redis: mode cluster, shared by two signer processes (real Redis Cluster)', () => {
  let cluster: RedisClusterProcesses;
  let service: PrivateBundle | undefined;
  const profileDir = mkdtempSync(join(tmpdir(), 'signer-cluster-'));
  const prefix = `signer-test-${randomUUID()}:`;
  const replicas: SignerProcess[] = [];
  let profile: EmbeddedProfile;
  let authority: DevAuthority;
  let licensing: DevLicensing;

  const poeFor = (licenseId: string) =>
    licensing.mintPoe({
      license_id: licenseId,
      tenant: profile.tenant,
      installation: profile.installation,
      plan: 'pro',
      valid_release_year: 2030,
      max_version: '1.99.99',
      limits: { qps: 1000, burst: 1000, concurrency: 10, dailyCap: DAILY_CAP },
    });
  const sign = async (signer: SignerProcess, poe: string): Promise<Outcome> => {
    const caller = await newCaller(authority, profile);
    const response = await postSign(signer.url, caller, validBody({ profile, poe }));
    const body = (await response.json()) as {
      code?: string;
      limit?: string;
      bundle?: { dsse: Outcome['dsse'] };
    };
    return { status: response.status, code: body.code, limit: body.limit, dsse: body.bundle?.dsse };
  };

  beforeAll(async () => {
    const [started, bundle, generated] = await Promise.all([
      RedisClusterProcesses.start({ replicas: true }),
      privateSignerBundle('quotas-cluster'),
      generateEmbeddedProfile(profileDir, { nonce: 'optional', stateStore: 'memory' }),
    ]);
    [cluster, service, profile] = [started, bundle, generated];
    ({ authority, licensing } = await profileParties(profile));
    const redis = { mode: 'cluster', nodes: cluster.seeds, minReplicaAcks: 1 };
    for (const name of ['a', 'b']) {
      const port = await freePort();
      replicas.push(
        await SignerProcess.start({
          bundle: bundle.main,
          port,
          auditFile: join(profileDir, 'audit', `${name}.jsonl`),
          stdout: 'drain',
          env: {
            SIGNER_CONFIG: profile.configPath,
            SIGNER__SERVER__PUBLICBASEURL: `http://127.0.0.1:${port}`,
            SIGNER__QUOTAS__STORE: 'redis',
            // Env values are YAML: the whole section as one flow mapping.
            SIGNER__QUOTAS__REDIS: JSON.stringify(redis),
            SIGNER__QUOTAS__REDISKEYPREFIX: JSON.stringify(prefix),
          },
        }),
      );
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(replicas.map((replica) => replica.stop()));
    await cluster?.stop();
    service?.remove();
    rmSync(profileDir, { recursive: true, force: true });
  }, 60_000);

  it('signs (verified independently) and holds each daily cap across both processes', async () => {
    // The embedded profile has one signing key.
    const keys = (await (await fetch(`${replicas[0].url}/api/v1/signer/keys`)).json()) as {
      keys: [{ publicKeyPem: string }];
    };
    const [{ publicKeyPem }] = keys.keys;
    const perLicence = await Promise.all(
      LICENCES.map(async (licenseId) => {
        const poe = await poeFor(licenseId);
        return Promise.all(Array.from({ length: 10 }, (_, i) => sign(replicas[i % 2], poe)));
      }),
    );

    for (const outcomes of perLicence) {
      const signed = outcomes.filter((o) => o.status === 200);
      expect(signed).toHaveLength(DAILY_CAP);
      for (const o of signed)
        expect(verifyDsseIndependently(o.dsse as NonNullable<Outcome['dsse']>, publicKeyPem)).toBe(true);
      const refused = outcomes.filter((o) => o.status !== 200);
      expect(refused.every((o) => o.status === 429 && o.code === 'plan_throttled')).toBe(true);
    }
    // The licences' quota state really lives on more than one master.
    const owners = new Set(
      await Promise.all(
        LICENCES.map((licenseId) =>
          cluster.slotOwnerOf(`${prefix}quota:{${encodeURIComponent(profile.tenant)}:${licenseId}}:state`),
        ),
      ),
    );
    expect(owners.size).toBeGreaterThan(1);
    const reader = new Cluster(
      cluster.seeds.map((url) => ({ host: '127.0.0.1', port: Number(new URL(url).port) })),
    );
    try {
      for (const licenseId of LICENCES) {
        const state = `${prefix}quota:{${encodeURIComponent(profile.tenant)}:${licenseId}}:state`;
        expect(Number(await reader.hget(state, 'used'))).toBe(DAILY_CAP);
      }
    } finally {
      reader.disconnect();
    }
  }, 120_000);
});
