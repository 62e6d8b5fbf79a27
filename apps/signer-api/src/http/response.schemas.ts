import { SIGNER_ERROR_CODES } from '@signer/core';
import { Type } from '@sinclair/typebox';

/** Response bodies (contract §2), as JSON Schema. Used by the OpenAPI document and by the tests that validate real responses. */
const Digest = Type.String({ pattern: '^sha256:[0-9a-f]{64}$' });

export const SigningIdentitySchema = Type.Object({
  issuer: Type.Optional(Type.String()),
  subject: Type.Optional(Type.String()),
  keyId: Type.String(),
  certExpiry: Type.Optional(Type.String({ description: 'RFC 3339 UTC' })),
  certificateSerial: Type.Optional(Type.String()),
});

export const SignDsseResponseSchema = Type.Object(
  {
    bundle: Type.Object({
      dsse: Type.Object({
        payloadType: Type.Literal('application/vnd.in-toto+json'),
        payload: Type.String({
          contentEncoding: 'base64',
          description: 'the canonical (RFC 8785) in-toto Statement v1',
        }),
        signatures: Type.Array(
          Type.Object({ keyid: Type.String(), sig: Type.String({ contentEncoding: 'base64' }) }),
          { minItems: 1 },
        ),
      }),
      certificateChain: Type.Optional(Type.Array(Type.String({ description: 'PEM, leaf first' }))),
      mode: Type.Union([Type.Literal('kms'), Type.Literal('keyless')]),
      signingIdentity: SigningIdentitySchema,
    }),
    sigstoreBundle: Type.Object(
      { mediaType: Type.Literal('application/vnd.dev.sigstore.bundle.v0.3+json') },
      {
        additionalProperties: true,
        description: 'Sigstore bundle v0.3 with DSSE content and no tlog entries',
      },
    ),
    policy: Type.Object({
      plan: Type.String(),
      maxArtifactBytes: Type.Integer(),
      qpsRemaining: Type.Integer({ minimum: 0 }),
    }),
    auditId: Type.String(),
  },
  { additionalProperties: false },
);

export const ReleaseVerdictSchema = Type.Object({
  digest: Digest,
  trusted: Type.Boolean(),
  source: Type.Union([Type.Literal('referrers-api'), Type.Literal('tag-schema'), Type.Literal('oci-layout')]),
  signatures: Type.Array(
    Type.Object(
      {
        kind: Type.Union([Type.Literal('cosign'), Type.Literal('sigstore-bundle')]),
        manifestDigest: Type.String(),
        keyId: Type.Optional(Type.String()),
        verified: Type.Boolean(),
        problem: Type.Optional(Type.String()),
        metadata: Type.Optional(
          Type.Object({ version: Type.Optional(Type.String()), created: Type.Optional(Type.String()) }),
        ),
      },
      { additionalProperties: true },
    ),
  ),
  release: Type.Union([
    Type.Object({ version: Type.Optional(Type.String()), created: Type.Optional(Type.String()) }),
    Type.Null(),
  ]),
  reason: Type.Union([Type.String(), Type.Null()]),
});

export const KeysResponseSchema = Type.Object({
  keys: Type.Array(
    Type.Object({ keyId: Type.String(), algorithm: Type.String(), publicKeyPem: Type.String() }),
  ),
  fulcioChain: Type.Array(Type.String()),
});

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ format: 'uri' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Union(SIGNER_ERROR_CODES.map((code) => Type.Literal(code))),
    auditId: Type.String(),
    instance: Type.Optional(Type.String()),
  },
  { description: 'RFC 9457 problem details' },
);
