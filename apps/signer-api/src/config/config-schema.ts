import { CEREMONY_OPERATION_KINDS } from '@signer/core';
import { Type, type Static } from '@sinclair/typebox';

/**
 * The one configuration schema (contract §9). Defaults live here; `additionalProperties: false`
 * everywhere so a misspelt key is a start-up error, never a silently ignored gate setting.
 */
const strict = { additionalProperties: false } as const;
const NonEmpty = Type.String({ minLength: 1 });
const Positive = Type.Integer({ minimum: 1 });
const NonNegative = Type.Integer({ minimum: 0 });
const KeyName = Type.String({ pattern: '^[A-Za-z0-9_.-]+$' });
const Rfc3339Utc = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$' });

export const PlanLimitsSchema = Type.Object(
  {
    qps: Type.Number({ exclusiveMinimum: 0 }),
    burst: Positive,
    concurrency: NonNegative,
    maxArtifactBytes: Positive,
    dailyCap: NonNegative,
  },
  strict,
);

const CeremonyOperationSchema = Type.Object(
  {
    approvals: Type.Integer({ minimum: 1, maximum: 100 }),
    expirySeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 2592000 })),
  },
  strict,
);
/** Per operation kind, overriding the defaults (2 approvals each). */
const CeremonyOperationsSchema = Object.fromEntries(
  CEREMONY_OPERATION_KINDS.map((kind) => [kind, Type.Optional(CeremonyOperationSchema)]),
);

export const SignerConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        publicBaseUrl: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+$' })),
        bodyLimitBytes: Type.Integer({ minimum: 1024, default: 1048576 }),
        // Extension (docs/decisions.md): a request must arrive whole within this time, or its
        // connection is answered 408 and closed (slow-client defence; Fastify's default is none).
        requestTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600000, default: 30000 }),
        // Extension (docs/security.md): an idle keep-alive connection is closed after this long
        // (Fastify's default is 72 s), and at most maxConnections are open at once (more are
        // dropped at accept), so idle sockets cannot pile up.
        keepAliveTimeoutMs: Type.Integer({ minimum: 1000, maximum: 600000, default: 5000 }),
        maxConnections: Type.Integer({ minimum: 16, maximum: 1000000, default: 4096 }),
        // Extension (docs/operations.md §7): a readiness answer is reused this long, and only one
        // round of dependency checks runs at a time, so /readyz floods cost the KMS nothing more.
        readinessCacheMs: Type.Integer({ minimum: 0, maximum: 60000, default: 5000 }),
        // Operator-only listener (plain HTTP) with each dependency's readiness; off unless set.
        adminPort: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
        adminHost: Type.String({ minLength: 1, default: '127.0.0.1' }),
        tls: Type.Optional(
          Type.Object(
            { certFile: NonEmpty, keyFile: NonEmpty, clientCaFile: Type.Optional(NonEmpty) },
            strict,
          ),
        ),
      },
      { ...strict, default: {} },
    ),
    authority: Type.Object(
      {
        issuer: NonEmpty,
        jwksUri: Type.Optional(NonEmpty),
        jwksFile: Type.Optional(NonEmpty),
        audience: Type.String({ minLength: 1, default: 'signer' }),
        requiredScope: Type.String({ minLength: 1, default: 'signer.sign' }),
        allowedAlgorithms: Type.Array(
          Type.Union([
            Type.Literal('ES256'),
            Type.Literal('ES384'),
            Type.Literal('EdDSA'),
            Type.Literal('PS256'),
          ]),
          {
            minItems: 1,
            default: ['ES256', 'ES384', 'EdDSA', 'PS256'],
          },
        ),
        senderConstraint: Type.Union([Type.Literal('dpop'), Type.Literal('mtls'), Type.Literal('either')], {
          default: 'either',
        }),
        clockSkewSeconds: Type.Integer({ minimum: 0, maximum: 300, default: 30 }),
        // Extension (docs/security.md): an OpTok living longer than this (exp − iat) is refused.
        maxTokenLifetimeSeconds: Type.Integer({ minimum: 60, maximum: 2592000, default: 86400 }),
        dpop: Type.Object(
          {
            nonce: Type.Union([Type.Literal('required'), Type.Literal('optional')], { default: 'required' }),
            nonceTtlSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
          },
          { ...strict, default: {} },
        ),
        // Remote keys (jwksUri or OIDC discovery); see docs/authority.md.
        jwksFetch: Type.Object(
          {
            refreshSeconds: Type.Integer({ minimum: 1, default: 300 }),
            cooldownSeconds: Type.Integer({ minimum: 1, default: 30 }),
            timeoutMs: Type.Integer({ minimum: 1, maximum: 60000, default: 3000 }),
            maxStaleSeconds: Type.Integer({ minimum: 1, default: 3600 }),
          },
          { ...strict, default: {} },
        ),
        // Verified-token cache; maxTtlSeconds 0 re-verifies every token on every request.
        tokenCache: Type.Object(
          {
            maxEntries: Type.Integer({ minimum: 1, default: 10000 }),
            maxTtlSeconds: Type.Integer({ minimum: 0, default: 300 }),
          },
          { ...strict, default: {} },
        ),
      },
      strict,
    ),
    licensing: Type.Object(
      {
        introspectUrl: Type.Optional(NonEmpty),
        offlineJwksFile: Type.Optional(NonEmpty),
        // Extension (docs/security.md): when set, an offline PoE's iss must equal it / its aud
        // must contain it (unset: not checked; the keys of offlineJwksFile alone decide).
        offlineIssuer: Type.Optional(NonEmpty),
        offlineAudience: Type.Optional(NonEmpty),
        cacheTtlSeconds: Type.Integer({ minimum: 0, default: 120 }),
        negativeCacheTtlSeconds: Type.Integer({ minimum: 0, default: 30 }),
        timeoutMs: Type.Integer({ minimum: 1, default: 2000 }),
      },
      strict,
    ),
    releaseIntegrity: Type.Object(
      {
        scannerRepository: NonEmpty,
        registryUrl: Type.Optional(NonEmpty),
        ociLayoutPath: Type.Optional(NonEmpty),
        trustedKeysFiles: Type.Array(NonEmpty, { minItems: 1 }),
        cacheTtlSeconds: Type.Integer({ minimum: 0, default: 3600 }),
        negativeCacheTtlSeconds: Type.Integer({ minimum: 0, default: 30 }),
        timeoutMs: Type.Integer({ minimum: 1, default: 3000 }),
        // Registry credentials by exact `host[:port]` of registryUrl; see docs/release-integrity.md.
        registryAuth: Type.Optional(
          Type.Record(
            Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?$' }),
            Type.Union([
              Type.Object({ username: NonEmpty, password: NonEmpty }, strict),
              Type.Object({ token: NonEmpty }, strict),
            ]),
          ),
        ),
        maxManifestBytes: Type.Integer({ minimum: 1024, maximum: 16777216, default: 4194304 }),
        maxLayerBytes: Type.Integer({ minimum: 1024, maximum: 16777216, default: 1048576 }),
      },
      strict,
    ),
    quotas: Type.Object(
      {
        store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
        redisUrl: Type.Optional(NonEmpty),
        // Instead of redisUrl: a Redis Cluster (seed nodes) or Sentinel set; see docs/decisions.md.
        redis: Type.Optional(
          Type.Object(
            {
              mode: Type.Union([
                Type.Literal('standalone'),
                Type.Literal('cluster'),
                Type.Literal('sentinel'),
              ]),
              // redis(s)://[user:password@]host:port — cluster seeds, the sentinels, or the one server.
              nodes: Type.Array(NonEmpty, { minItems: 1, maxItems: 64 }),
              masterName: Type.Optional(NonEmpty),
              // Replicas that must hold a quota admission or a DPoP replay entry before it counts.
              minReplicaAcks: Type.Integer({ minimum: 0, maximum: 5, default: 0 }),
              replicaAckTimeoutMs: Type.Integer({ minimum: 10, maximum: 5000, default: 200 }),
            },
            strict,
          ),
        ),
        // Prefix of every Redis key of this installation; see docs/entitlement-and-quotas.md.
        redisKeyPrefix: Type.String({ minLength: 1, maxLength: 64, default: 'signer:' }),
        // How long a concurrency slot outlives a replica that died holding it.
        leaseSeconds: Type.Integer({ minimum: 1, maximum: 3600, default: 30 }),
        plans: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), PlanLimitsSchema, {
          minProperties: 1,
        }),
      },
      strict,
    ),
    // Idempotency records (contract §2.1), in the quotas.store; see docs/decisions.md (Idempotency).
    idempotency: Type.Object(
      {
        // How long a finished request's answer is replayed.
        ttlSeconds: Type.Integer({ minimum: 60, maximum: 604800, default: 86400 }),
        // How long a claim holds its key if its replica dies; default server.requestTimeoutMs + 30 s.
        leaseSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
        // Under byte pressure, answers younger than this are never evicted (a new key is refused).
        minRetentionSeconds: Type.Integer({ minimum: 0, maximum: 604800, default: 3600 }),
        // Bytes of stored answers (JSON + 768 B per record) one tenant, and all tenants, may hold.
        maxBytesPerTenant: Type.Integer({ minimum: 65536, default: 67108864 }),
        maxBytes: Type.Integer({ minimum: 65536, default: 268435456 }),
      },
      { ...strict, default: {} },
    ),
    signing: Type.Object(
      {
        defaultMode: Type.Union([Type.Literal('kms'), Type.Literal('keyless')], { default: 'kms' }),
        keys: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
          // Backends, credentials, rate shaping and defaults: docs/signing-backends.md.
          Type.Object(
            {
              ref: NonEmpty,
              endpoint: Type.Optional(NonEmpty),
              region: Type.Optional(NonEmpty),
              algorithm: Type.Optional(
                Type.Union([
                  Type.Literal('ES256'),
                  Type.Literal('ES384'),
                  Type.Literal('PS256'),
                  Type.Literal('RS256'),
                  Type.Literal('EdDSA'),
                ]),
              ),
              maxRps: Type.Optional(Type.Number({ exclusiveMinimum: 0 })),
              maxWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 60000 })),
              timeoutMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 60000 })),
              // pkcs11: keys only: logged-in sessions kept open on the token (default 4).
              poolSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
              // Key lifecycle seed (contract §11): used only when the state store is empty.
              state: Type.Optional(
                Type.Union([
                  Type.Literal('pending'),
                  Type.Literal('active'),
                  Type.Literal('retired'),
                  Type.Literal('revoked'),
                ]),
              ),
              validFrom: Type.Optional(Rfc3339Utc),
              validUntil: Type.Optional(Rfc3339Utc),
              profile: Type.Optional(KeyName),
            },
            strict,
          ),
          { default: {} },
        ),
        // The installation's default key (seed); unset: `default` if active, else the first active name.
        defaultKey: Type.Optional(KeyName),
        // Plan → key name (seed), for requests that name no key.
        planDefaults: Type.Optional(Type.Record(KeyName, KeyName)),
        // Rotation policy per profile; a key without `profile` uses `default` (built in when absent).
        rotation: Type.Object(
          {
            profiles: Type.Record(
              KeyName,
              Type.Object(
                {
                  algorithms: Type.Array(
                    Type.Union([
                      Type.Literal('ES256'),
                      Type.Literal('ES384'),
                      Type.Literal('PS256'),
                      Type.Literal('RS256'),
                      Type.Literal('EdDSA'),
                    ]),
                    { minItems: 1 },
                  ),
                  maxAgeDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36500 })),
                  warningDays: Type.Integer({ minimum: 0, maximum: 3650, default: 30 }),
                },
                strict,
              ),
              { default: {} },
            ),
          },
          { ...strict, default: {} },
        ),
        keyless: Type.Optional(
          Type.Object(
            {
              fulcioUrl: NonEmpty,
              identityTokenFile: NonEmpty,
              rotationMarginSeconds: Type.Integer({ minimum: 1, maximum: 86400, default: 120 }),
              timeoutMs: Type.Integer({ minimum: 100, maximum: 120000, default: 10000 }),
              requireEmbeddedSct: Type.Boolean({ default: true }),
            },
            strict,
          ),
        ),
      },
      strict,
    ),
    // Managed key state and trust anchors (contract §11): where every replica reads them from.
    state: Type.Object(
      {
        store: Type.Union([Type.Literal('memory'), Type.Literal('file'), Type.Literal('postgres')], {
          default: 'memory',
        }),
        filePath: Type.Optional(NonEmpty),
        postgresUrl: Type.Optional(NonEmpty),
        refreshIntervalMs: Type.Integer({ minimum: 100, maximum: 60000, default: 1000 }),
        // A replica whose last successful refresh is older than this refuses to sign (upstream state).
        maxStalenessMs: Type.Integer({ minimum: 200, maximum: 600000, default: 5000 }),
      },
      { ...strict, default: {} },
    ),
    // Dual-control ceremonies (contract §11): stored in the state.store backend; see ceremonies-config.ts.
    ceremonies: Type.Object(
      {
        // With state.store file: default ceremonies.json next to state.filePath.
        filePath: Type.Optional(NonEmpty),
        expirySeconds: Type.Integer({ minimum: 60, maximum: 2592000, default: 86400 }),
        // OpTok subs allowed to approve or reject (N); unset: any holder of signer.ceremony.approve.
        approvers: Type.Optional(
          Type.Array(Type.String({ minLength: 1, maxLength: 256 }), {
            minItems: 1,
            maxItems: 100,
            uniqueItems: true,
          }),
        ),
        operations: Type.Object(CeremonyOperationsSchema, { ...strict, default: {} }),
        // Open (pending/approved, not expired) ceremonies one initiator may hold; past it a create
        // is 429 plan_throttled (limit ceremonies), so one principal cannot fill the store.
        maxOpenPerInitiator: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }),
      },
      { ...strict, default: {} },
    ),
    predicates: Type.Object({ allowed: Type.Array(NonEmpty, { minItems: 1 }) }, strict),
    audit: Type.Object(
      {
        sink: Type.Union([Type.Literal('file'), Type.Literal('postgres')], { default: 'file' }),
        filePath: Type.Optional(NonEmpty),
        postgresUrl: Type.Optional(NonEmpty),
        // Extension (docs/decisions.md): under concurrent load a batch waits up to this long for
        // more records, so one fdatasync / transaction serves more requests. 0 = never wait.
        batchDelayMs: Type.Integer({ minimum: 0, maximum: 50, default: 2 }),
        // Extension (docs/decisions.md): with sink postgres, each replica appends to a chain of its
        // own; a replica with new records checkpoints every chain's head this often.
        checkpointIntervalMs: Type.Integer({ minimum: 100, maximum: 60000, default: 1000 }),
        // Extension (docs/security.md): refusals of callers that have not proved possession of a
        // token each get their own record up to this many per second; past it they are counted
        // into one `summary` record per second, so anonymous traffic cannot fill the trail.
        anonymousRecordsPerSecond: Type.Integer({ minimum: 1, maximum: 100000, default: 100 }),
      },
      { ...strict, default: {} },
    ),
    // OpenTelemetry tracing (docs/operations.md): off unless otlpEndpoint (the collector's base URL) is set.
    telemetry: Type.Optional(
      Type.Object(
        {
          otlpEndpoint: Type.Optional(Type.String({ pattern: '^https?://[^?#]+$' })),
          serviceName: Type.Optional(NonEmpty),
        },
        strict,
      ),
    ),
  },
  strict,
);

export type SignerConfig = Static<typeof SignerConfigSchema>;
