import { SignerError, type RequestSchema, type SignDsseRequest } from '@signer/core';
import { Type } from '@sinclair/typebox';
import Ajv, { type ErrorObject } from 'ajv';

/** Request schema of `POST /sign/dsse` (contract §2.1). Also the source of the OpenAPI document. */
export const SignDsseBodySchema = Type.Object(
  {
    subject: Type.Array(
      Type.Object(
        {
          name: Type.String({ minLength: 1, maxLength: 2048 }),
          digest: Type.Object(
            { sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }) },
            {
              additionalProperties: Type.String({ pattern: '^[0-9a-f]{1,256}$' }),
              propertyNames: { pattern: '^[a-z0-9]{1,32}$' },
            },
          ),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 1024 },
    ),
    predicateType: Type.String({ minLength: 1, maxLength: 512 }),
    predicate: Type.Object({}, { additionalProperties: true }),
    scannerImageDigest: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }),
    poe: Type.Object(
      {
        format: Type.Union([Type.Literal('jwt'), Type.Literal('mtls')]),
        value: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })),
      },
      { additionalProperties: false },
    ),
    options: Type.Optional(
      Type.Object(
        {
          signingMode: Type.Optional(Type.Union([Type.Literal('kms'), Type.Literal('keyless')])),
          keyId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
          returnBundle: Type.Optional(Type.Union([Type.Literal('dsse'), Type.Literal('dsse+cert')])),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

function describe(error: ErrorObject): string {
  const path = error.instancePath.replace(/^\//, '').replace(/\//g, '.') || 'body';
  if (error.keyword === 'additionalProperties') {
    return `${path}.${(error.params as { additionalProperty: string }).additionalProperty}: unknown field`;
  }
  if (error.keyword === 'required')
    return `${path}.${(error.params as { missingProperty: string }).missingProperty}: required`;
  return `${path}: ${error.message ?? 'invalid'}`;
}

/** Ajv-backed {@link RequestSchema}: stops at the first error so hostile bodies cost little. */
export class AjvSignRequestSchema implements RequestSchema {
  private readonly validate = new Ajv({ allErrors: false, strict: false }).compile<SignDsseRequest>(
    SignDsseBodySchema,
  );

  parse(body: unknown): SignDsseRequest {
    if (!this.validate(body)) {
      const first = this.validate.errors?.[0];
      throw new SignerError('invalid_request', first ? describe(first) : 'body: invalid');
    }
    if (body.poe.format === 'jwt' && !body.poe.value)
      throw new SignerError('invalid_request', 'poe.value: required for format jwt');
    if (body.poe.format === 'mtls' && body.poe.value !== undefined) {
      throw new SignerError('invalid_request', 'poe.value: must be omitted for format mtls');
    }
    return body;
  }
}
