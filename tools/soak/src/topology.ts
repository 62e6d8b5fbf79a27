import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DevAuthority, generateEmbeddedProfile, generateReleaseKey, writePublicKeysFile } from '@signer/dev';
import {
  buildRegistryRelease,
  createThrowawayDatabase,
  DockerRegistry,
  FakeAwsKms,
  FakeFulcio,
  FakeLicensingServer,
  freePort,
  FulcioTestCa,
  PrivateRedis,
  publishToDockerRegistry,
  RedisClusterProcesses,
  TcpProxy,
  TestOidcIssuer,
  type ThrowawayDatabase,
} from '@signer/testing';
import { parse, stringify } from 'yaml';
import { SignerReplica } from './replicas';
import type { SoakSettings } from './settings';

/** Short cache lifetimes, so an upstream fault shows within a phase instead of hiding behind a cache. */
export const LICENSING_CACHE_SECONDS = 2;
export const RELEASE_CACHE_SECONDS = 2;
export const UPSTREAM_TIMEOUT_MS = 1000;
/** Fulcio leaves live 24 s and are used until 20 s before expiry: a new certificate every few seconds. */
export const FULCIO_CERT_SECONDS = 24;
export const FULCIO_ROTATION_MARGIN_SECONDS = 20;
export const LEASE_SECONDS = 5;
export const QUOTA_PLAN = 'soak-small';
export const QUOTA_LIMITS = {
  qps: 10,
  burst: 10,
  concurrency: 3,
  maxArtifactBytes: 1048576,
  dailyCap: 10_000_000,
};
export const REDIS_PREFIX = 'soak:';
export const KEYLESS_IDENTITY = 'signer@stella-ops.test';
export const KEY_IDS = { file: 'default', aws: 'aws-p256', keyless: 'keyless' } as const;
export const SIGN_PATH = '/api/v1/signer/sign/dsse';
/** `server.bodyLimitBytes`: the large-body traffic stays just under it, `oversized` goes over. */
export const BODY_LIMIT_BYTES = 1_048_576;
/**
 * `audit.anonymousRecordsPerSecond`, low (the default is 100) so the hostile traffic crosses it
 * every few seconds and both kinds of anonymous record, own and summary, are checked.
 */
export const ANONYMOUS_RECORDS_PER_SECOND = 10;
/**
 * `idempotency.maxBytesPerTenant`, small: a few large answers fill it, so the tenant sending large
 * bodies with fresh keys meets its bound (429) within the short soak, and Redis stays small.
 */
export const IDEMPOTENCY_BYTES_PER_TENANT = 16 * 1024 * 1024;

/** Everything the soak runs: three replicas and the dependencies it can break without touching shared services. */
export interface SoakTopology {
  dir: string;
  authority: DevAuthority;
  licensing: FakeLicensingServer;
  registry: DockerRegistry;
  registryProxy: TcpProxy;
  /** The private redis-server (`SOAK_REDIS=standalone`), or the private cluster (`cluster`). */
  redis?: PrivateRedis;
  cluster?: RedisClusterProcesses;
  /** The URL of the Redis node that holds `key` now (the cluster's master of its slot). */
  redisUrlFor(key: string): Promise<string>;
  db: ThrowawayDatabase;
  pgProxy: TcpProxy;
  kms: FakeAwsKms;
  fulcio: FakeFulcio;
  ca: FulcioTestCa;
  scannerImageDigest: string;
  replicas: SignerReplica[];
  close(): Promise<void>;
}

type Yaml = Record<string, Record<string, unknown>>;

/** Starts the dependencies and three replicas on a config with every shared-state feature in use. */
export async function startTopology(settings: SoakSettings): Promise<SoakTopology> {
  const dir = mkdtempSync(join(settings.root, 'tmp', 'soak-material-'));
  const cleanups: Array<() => Promise<unknown> | unknown> = [
    () => rmSync(dir, { recursive: true, force: true }),
  ];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await Promise.resolve(cleanup()).catch(() => undefined);
  };
  try {
    const profile = await generateEmbeddedProfile(join(dir, 'profile'), {
      nonce: 'required',
      // Three replicas on one profile: each seeds its own state (a file store has one writer).
      stateStore: 'memory',
    });
    const authority = await DevAuthority.fromPrivateJwk(
      JSON.parse(readFileSync(profile.authorityPrivateJwkFile, 'utf8')),
    );

    let redis: PrivateRedis | undefined;
    let cluster: RedisClusterProcesses | undefined;
    if (settings.redis === 'cluster') {
      cluster = await RedisClusterProcesses.start({ replicas: true });
      cleanups.push(() => cluster?.stop());
    } else {
      redis = await PrivateRedis.start(await freePort());
      cleanups.push(() => redis?.stop());
    }
    const db = await createThrowawayDatabase('signer_soak');
    cleanups.push(() => db.drop());
    const pgProxy = await TcpProxy.start({ host: '127.0.0.1', port: 5432 });
    cleanups.push(() => pgProxy.close());

    const licensing = await FakeLicensingServer.start();
    cleanups.push(() => licensing.stop());

    const releaseKey = generateReleaseKey('ecdsa-p256');
    const release = buildRegistryRelease({ signatures: [{ key: releaseKey }] });
    const registry = await DockerRegistry.start();
    cleanups.push(() => registry.stop());
    await publishToDockerRegistry(registry, release);
    const registryProxy = await TcpProxy.start({
      host: '127.0.0.1',
      port: Number(new URL(registry.baseUrl).port),
    });
    cleanups.push(() => registryProxy.close());
    const trustedKeys = writePublicKeysFile(join(dir, 'release-keys.pem'), [releaseKey]);

    const kms = await FakeAwsKms.start();
    cleanups.push(() => kms.close());
    const awsKey = kms.createKey('ECC_NIST_P256');

    const [oidc, ca] = await Promise.all([TestOidcIssuer.create(), FulcioTestCa.create()]);
    const fulcio = await FakeFulcio.start({ oidc, ca, certificateLifetimeSeconds: FULCIO_CERT_SECONDS });
    cleanups.push(() => fulcio.close());
    const tokenFile = join(dir, 'oidc-token.jwt');
    const tokenLifetime = settings.totalSeconds + 3600;
    writeFileSync(tokenFile, await oidc.mint({ email: KEYLESS_IDENTITY, lifetimeSeconds: tokenLifetime }), {
      mode: 0o600,
    });

    const config = parse(readFileSync(profile.configPath, 'utf8')) as Yaml;
    delete config['licensing']['offlineJwksFile'];
    Object.assign(config['licensing'], {
      introspectUrl: licensing.url,
      cacheTtlSeconds: LICENSING_CACHE_SECONDS,
      negativeCacheTtlSeconds: LICENSING_CACHE_SECONDS,
      timeoutMs: UPSTREAM_TIMEOUT_MS,
    });
    delete config['releaseIntegrity']['ociLayoutPath'];
    Object.assign(config['releaseIntegrity'], {
      registryUrl: `http://127.0.0.1:${registryProxy.port}`,
      trustedKeysFiles: [trustedKeys],
      cacheTtlSeconds: RELEASE_CACHE_SECONDS,
      negativeCacheTtlSeconds: RELEASE_CACHE_SECONDS,
      timeoutMs: UPSTREAM_TIMEOUT_MS,
    });
    Object.assign(config['quotas'], {
      store: 'redis',
      // Every admission and replay entry waits for one replica: a master failover loses none.
      ...(cluster
        ? { redis: { mode: 'cluster', nodes: cluster.seeds, minReplicaAcks: 1 } }
        : { redisUrl: redis?.url }),
      redisKeyPrefix: REDIS_PREFIX,
      leaseSeconds: LEASE_SECONDS,
    });
    (config['quotas']['plans'] as Record<string, unknown>)[QUOTA_PLAN] = QUOTA_LIMITS;
    config['signing'] = {
      defaultMode: 'kms',
      keys: {
        [KEY_IDS.file]: (config['signing']['keys'] as Record<string, unknown>)['default'],
        [KEY_IDS.aws]: {
          ref: `awskms://${awsKey.arn}`,
          endpoint: kms.endpoint,
          region: kms.region,
          timeoutMs: UPSTREAM_TIMEOUT_MS,
        },
      },
      keyless: {
        fulcioUrl: fulcio.url,
        identityTokenFile: tokenFile,
        timeoutMs: 2 * UPSTREAM_TIMEOUT_MS,
        rotationMarginSeconds: FULCIO_ROTATION_MARGIN_SECONDS,
      },
    };
    config['audit'] = {
      sink: 'postgres',
      postgresUrl: db.urlAs('postgres', '127.0.0.1', pgProxy.port),
      anonymousRecordsPerSecond: ANONYMOUS_RECORDS_PER_SECOND,
    };
    config['server'] = { ...config['server'], bodyLimitBytes: BODY_LIMIT_BYTES };
    config['idempotency'] = { ...config['idempotency'], maxBytesPerTenant: IDEMPOTENCY_BYTES_PER_TENANT };
    writeFileSync(profile.configPath, stringify(config));

    const env = {
      SIGNER_CONFIG: profile.configPath,
      AWS_ACCESS_KEY_ID: kms.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: kms.credentials.secretAccessKey,
      AWS_REGION: kms.region,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const replicas: SignerReplica[] = [];
    cleanups.push(() => Promise.all(replicas.map((replica) => replica.stop())));
    // One at a time: the first applies the audit schema migration, the others find it applied.
    for (const name of ['a', 'b', 'c'])
      replicas.push(await SignerReplica.launch(name, settings.signerBundle, env, settings.root));

    return {
      dir,
      authority,
      licensing,
      registry,
      registryProxy,
      redis,
      cluster,
      redisUrlFor: async (key) =>
        cluster ? `redis://127.0.0.1:${await cluster.slotOwnerOf(key)}` : (redis as PrivateRedis).url,
      db,
      pgProxy,
      kms,
      fulcio,
      ca,
      scannerImageDigest: release.scannerDigest,
      replicas,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
