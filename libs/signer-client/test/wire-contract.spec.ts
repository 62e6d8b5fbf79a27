import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { SIGNER_PROBLEM_CODES } from '../src/client/client-errors';
import { KEYS_PATH, SIGN_DSSE_PATH, VERIFY_REFERRERS_PATH } from '../src/client/public-endpoints';
import { drift, schemaFields, typeFields } from './wire-shapes';

// The client declares the wire by hand so a caller never depends on server code. These checks hold
// it to what the service serves: docs/openapi.json (a signer-api test keeps it equal to the served
// document) and the server's code list, read by the TypeScript checker, never imported.
const ROOT = join(__dirname, '..', '..', '..');
const WIRE_TYPES = join(ROOT, 'libs/signer-client/src/client/wire-types.ts');
const CORE_ERRORS = join(ROOT, 'libs/signer-core/src/errors.ts');

type Schema = Record<string, unknown>;
const openapi = JSON.parse(readFileSync(join(ROOT, 'docs/openapi.json'), 'utf8')) as {
  paths: Record<string, Record<string, Schema & { parameters?: Schema[] }>>;
  components: { schemas: Record<string, Schema> };
};
const operation = (path: string, method: string) => openapi.paths[path][method];
const at = (node: unknown, ...keys: string[]) =>
  keys.reduce((value, key) => (value as Schema)[key], node) as Schema;
const ok = (path: string, method: string) =>
  at(operation(path, method), 'responses', '200', 'content', 'application/json', 'schema');

const program = ts.createProgram([WIRE_TYPES, CORE_ERRORS], {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.CommonJS,
  noEmit: true,
  skipLibCheck: true,
  types: [],
});
const checker = program.getTypeChecker();
const exported = (file: string, name: string): ts.Symbol => {
  const source = program.getSourceFile(file);
  const module = source && checker.getSymbolAtLocation(source);
  const symbol = module && checker.getExportsOfModule(module).find((candidate) => candidate.name === name);
  if (!symbol) throw new Error(`${file} exports no ${name}`);
  return symbol;
};
const clientFields = (name: string) =>
  typeFields(checker, checker.getDeclaredTypeOfSymbol(exported(WIRE_TYPES, name)));
const servedFields = (schema: Schema) => schemaFields(openapi as unknown as Schema, schema);

const BODIES: Array<[string, 'request' | 'response', Schema]> = [
  [
    'SignDsseRequest',
    'request',
    at(operation(SIGN_DSSE_PATH, 'post'), 'requestBody', 'content', 'application/json', 'schema'),
  ],
  ['SignDsseResponse', 'response', ok(SIGN_DSSE_PATH, 'post')],
  ['ReleaseVerdict', 'response', ok(VERIFY_REFERRERS_PATH, 'get')],
  ['SignerKeysResponse', 'response', ok(KEYS_PATH, 'get')],
  ['SignerProblem', 'response', openapi.components.schemas['Problem']],
];

describe('client wire types against the served OpenAPI document', () => {
  describe('when each body type is compared with its schema', () => {
    it.each(BODIES)('%s (%s) names the same fields, values and requiredness', (name, direction, schema) => {
      expect(drift(clientFields(name), servedFields(schema), direction)).toEqual([]);
    });
  });

  describe('when the served schema drifts from the client', () => {
    it('reports a new field, a removed field and a new enum value', () => {
      const served = structuredClone(openapi.components.schemas['SignDsseRequest']) as {
        properties: Record<string, Schema>;
        required: string[];
      };
      served.properties['tenantHint'] = { type: 'string' };
      served.required.push('tenantHint');
      const options = served.properties['options'] as { properties: Record<string, Schema> };
      delete options.properties['keyId'];
      (options.properties['signingMode']['anyOf'] as Schema[]).push({ const: 'hsm', type: 'string' });

      expect(drift(clientFields('SignDsseRequest'), servedFields(served), 'request').sort()).toEqual([
        'options.keyId: in the client, not served',
        'options.signingMode: client keyless|kms, served hsm|keyless|kms',
        'tenantHint: served, missing in the client',
      ]);
    });

    it('reports a response field the client requires but the server may leave out', () => {
      const served = structuredClone(openapi.components.schemas['SignDsseResponse']);
      served['required'] = (served['required'] as string[]).filter((field) => field !== 'auditId');

      expect(drift(clientFields('SignDsseResponse'), servedFields(served), 'response')).toEqual([
        'auditId: required by the client, not always served',
      ]);
    });
  });

  describe('when the problem codes are compared', () => {
    it("equal the served Problem.code values and the server's SIGNER_ERROR_CODES, in order", () => {
      const served = (
        at(openapi.components.schemas['Problem'], 'properties', 'code')['anyOf'] as Schema[]
      ).map((member) => member['const']);
      const tuple = checker.getTypeOfSymbol(exported(CORE_ERRORS, 'SIGNER_ERROR_CODES')) as ts.TypeReference;
      const server = checker.getTypeArguments(tuple).map((type) => (type as ts.StringLiteralType).value);

      expect(server.length).toBeGreaterThan(10);
      expect([...SIGNER_PROBLEM_CODES]).toEqual(server);
      expect([...SIGNER_PROBLEM_CODES]).toEqual(served);
    });
  });

  describe('when the client paths are looked up', () => {
    it('finds each operation the client calls, and the digest query parameter', () => {
      expect(operation(SIGN_DSSE_PATH, 'post')['operationId']).toBe('signDsse');
      expect(operation(KEYS_PATH, 'get')).toBeDefined();
      const parameters = (operation(VERIFY_REFERRERS_PATH, 'get').parameters ?? []).map((p) =>
        p['$ref'] ? p['$ref'] : `${p['in']}:${p['name']}`,
      );
      expect(parameters).toContain('query:digest');
    });
  });
});
