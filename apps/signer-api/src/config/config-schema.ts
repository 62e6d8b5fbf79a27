import { Type, type Static } from '@sinclair/typebox';

/**
 * The one configuration schema (contract §9). Defaults live here; `additionalProperties: false`
 * everywhere so a misspelt key is a start-up error, never a silently ignored gate setting.
 */
const strict = { additionalProperties: false } as const;
const NonEmpty = Type.String({ minLength: 1 });
const Positive = Type.Integer({ minimum: 1 });
const NonNegative = Type.Integer({ minimum: 0 });

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

export const SignerConfigSchema = Type.Object(
  {
    server: Type.Object(
      {
        host: Type.String({ default: '127.0.0.1' }),
        port: Type.Integer({ minimum: 0, maximum: 65535, default: 8080 }),
        publicBaseUrl: Type.Optional(Type.String({ pattern: '^https?://[^/?#]+$' })),
        bodyLimitBytes: Type.Integer({ minimum: 1024, default: 1048576 }),
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
        dpop: Type.Object(
          {
            nonce: Type.Union([Type.Literal('required'), Type.Literal('optional')], { default: 'required' }),
            nonceTtlSeconds: Type.Integer({ minimum: 10, maximum: 3600, default: 300 }),
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
      },
      strict,
    ),
    quotas: Type.Object(
      {
        store: Type.Union([Type.Literal('memory'), Type.Literal('redis')], { default: 'memory' }),
        redisUrl: Type.Optional(NonEmpty),
        plans: Type.Record(Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }), PlanLimitsSchema, {
          minProperties: 1,
        }),
      },
      strict,
    ),
    signing: Type.Object(
      {
        defaultMode: Type.Union([Type.Literal('kms'), Type.Literal('keyless')], { default: 'kms' }),
        keys: Type.Record(
          Type.String({ pattern: '^[A-Za-z0-9_.-]+$' }),
          Type.Object(
            { ref: NonEmpty, endpoint: Type.Optional(NonEmpty), region: Type.Optional(NonEmpty) },
            strict,
          ),
          { default: {} },
        ),
        keyless: Type.Optional(Type.Object({ fulcioUrl: NonEmpty, identityTokenFile: NonEmpty }, strict)),
      },
      strict,
    ),
    predicates: Type.Object({ allowed: Type.Array(NonEmpty, { minItems: 1 }) }, strict),
    audit: Type.Object(
      {
        sink: Type.Union([Type.Literal('file'), Type.Literal('postgres')], { default: 'file' }),
        filePath: Type.Optional(NonEmpty),
        postgresUrl: Type.Optional(NonEmpty),
      },
      { ...strict, default: {} },
    ),
  },
  strict,
);

export type SignerConfig = Static<typeof SignerConfigSchema>;
