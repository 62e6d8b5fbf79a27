import {
  CEREMONY_LABEL_MAX_LENGTH,
  CEREMONY_PEM_MAX_LENGTH,
  CEREMONY_PEM_MIN_LENGTH,
  CEREMONY_REASON_MAX_LENGTH,
  SignerError,
  type CeremonyBodySchema,
  type CeremonyOperationKind,
} from '@signer/core';
import { Type, type TObject } from '@sinclair/typebox';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';

/** Request bodies of the ceremony routes (contract §11). Also the source of the OpenAPI document. */
const strict = { additionalProperties: false } as const;
const Name = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const Reason = Type.String({ minLength: 1, maxLength: CEREMONY_REASON_MAX_LENGTH });
const Instant = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d{1,9})?Z$',
  description: 'RFC 3339 UTC',
});

export const CEREMONY_OPERATION_SCHEMAS: Readonly<Record<CeremonyOperationKind, TObject>> = {
  'key.register': Type.Object(
    {
      kind: Type.Literal('key.register'),
      name: Name,
      ref: Type.String({
        pattern: '^(file|awskms|gcpkms|pkcs11):[\\x21-\\x7e]{1,1017}$',
        description: 'key reference, loaded when executed',
      }),
      profile: Type.Optional(Name),
      validFrom: Type.Optional(Instant),
      validUntil: Type.Optional(Instant),
    },
    strict,
  ),
  'key.activate': Type.Object({ kind: Type.Literal('key.activate'), name: Name }, strict),
  'key.retire': Type.Object({ kind: Type.Literal('key.retire'), name: Name }, strict),
  'key.revoke': Type.Object({ kind: Type.Literal('key.revoke'), name: Name, reason: Reason }, strict),
  'key.set-default': Type.Object(
    {
      kind: Type.Literal('key.set-default'),
      name: Name,
      plan: Type.Optional(
        Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'absent: the installation default' }),
      ),
    },
    strict,
  ),
  'trust-anchor.add': Type.Object(
    {
      kind: Type.Literal('trust-anchor.add'),
      publicKeyPem: Type.String({ minLength: CEREMONY_PEM_MIN_LENGTH, maxLength: CEREMONY_PEM_MAX_LENGTH }),
      label: Type.Optional(Type.String({ minLength: 1, maxLength: CEREMONY_LABEL_MAX_LENGTH })),
    },
    strict,
  ),
  'trust-anchor.remove': Type.Object(
    { kind: Type.Literal('trust-anchor.remove'), keyId: Type.String({ pattern: '^sha256:[0-9a-f]{64}$' }) },
    strict,
  ),
};

export const CeremonyOperationSchema = Type.Union(Object.values(CEREMONY_OPERATION_SCHEMAS), {
  discriminator: { propertyName: 'kind' },
});
export const CreateCeremonyBodySchema = Type.Object({ operation: CeremonyOperationSchema }, strict);
export const RejectCeremonyBodySchema = Type.Object({ reason: Reason }, strict);

function describe(error: ErrorObject, prefix: string): string {
  const path = `${prefix}${error.instancePath.replace(/\//g, '.')}`;
  if (error.keyword === 'additionalProperties')
    return `${path}.${String((error.params as { additionalProperty: string }).additionalProperty).slice(0, 64)}: unknown field`;
  if (error.keyword === 'required')
    return `${path}.${(error.params as { missingProperty: string }).missingProperty}: required`;
  return `${path}: ${error.message ?? 'invalid'}`;
}

/**
 * Ajv-backed {@link CeremonyBodySchema}: the envelope first, then the operation's own schema chosen
 * by `kind` (so a refusal names the field, not "must match a schema in anyOf").
 */
export class AjvCeremonyBodySchema implements CeremonyBodySchema {
  private readonly ajv = new Ajv({ allErrors: false, strict: false });
  private readonly envelope = this.ajv.compile(
    Type.Object({ operation: Type.Object({ kind: Type.String() }) }, strict),
  );
  private readonly reject = this.ajv.compile(RejectCeremonyBodySchema);
  private readonly operations = new Map<string, ValidateFunction>(
    Object.entries(CEREMONY_OPERATION_SCHEMAS).map(([kind, schema]) => [kind, this.ajv.compile(schema)]),
  );

  check(step: 'create' | 'reject', body: unknown): void {
    if (step === 'reject') return this.run(this.reject, body, 'body');
    this.run(this.envelope, body, 'body');
    const operation = (body as { operation: { kind: string } }).operation;
    const validate = this.operations.get(operation.kind);
    if (!validate)
      throw new SignerError(
        'invalid_request',
        `body.operation.kind: expected one of ${[...this.operations.keys()].join(', ')}`,
      );
    this.run(validate, operation, 'body.operation');
  }

  private run(validate: ValidateFunction, value: unknown, prefix: string): void {
    if (validate(value)) return;
    const first = validate.errors?.[0];
    throw new SignerError('invalid_request', first ? describe(first, prefix) : `${prefix}: invalid`);
  }
}
