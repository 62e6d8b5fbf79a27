import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { renderErrorCatalogue } from '../src/http/error-catalogue';
import { startWithCaller, validBody, type Caller, type Harness } from './harness';

const root = join(__dirname, '..', '..', '..');
const committed = JSON.parse(readFileSync(join(root, 'docs/openapi.json'), 'utf8')) as {
  components: { schemas: Record<string, object> };
};

describe('OpenAPI document and error catalogue', () => {
  let harness: Harness;
  let caller: Caller;
  const ajv = new Ajv({ strict: false, allErrors: true });
  ajv.addSchema({ $id: 'openapi', components: committed.components });
  const expectValid = (schemaName: string, body: unknown) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${schemaName}`);
    if (!validate) throw new Error(`no schema ${schemaName}`);
    const ok = validate(body);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  };

  beforeAll(async () => ({ harness, caller } = await startWithCaller()));
  afterAll(() => harness.close());

  describe('when the committed copies are compared with the code', () => {
    it('serves exactly the committed docs/openapi.json (regenerate with nx run signer-api:docs)', async () => {
      const served = await harness.app.inject({ method: 'GET', url: '/api/v1/signer/openapi.json' });
      expect(served.statusCode).toBe(200);
      expect(served.json()).toEqual(committed);
    });
    it('has docs/errors.md generated from the error table', () => {
      expect(readFileSync(join(root, 'docs/errors.md'), 'utf8')).toBe(renderErrorCatalogue());
    });
  });

  describe('when a standard validator reads the document', () => {
    it('is a valid OpenAPI 3.1 document', () => {
      const run = spawnSync(
        process.execPath,
        [join(root, 'tools/docs/validate-openapi.mjs'), join(root, 'docs/openapi.json')],
        { encoding: 'utf8' },
      );
      expect(run.stderr).toBe('');
      expect(run.stdout).toContain('valid OpenAPI 3.1');
      expect(run.status).toBe(0);
    });
  });

  describe('when real responses are checked against its schemas', () => {
    it('describes a signed bundle', async () => {
      const response = await caller.sign(validBody(harness));
      expect(response.statusCode).toBe(200);
      expectValid('SignDsseResponse', response.json());
    });
    it('describes refusals as problems', async () => {
      const response = await caller.sign(validBody(harness, { predicateType: 'nope' }));
      expect(response.statusCode).toBe(422);
      expectValid('Problem', response.json());
      const unauthenticated = await harness.app.inject({
        method: 'GET',
        url: '/api/v1/signer/verify/referrers?digest=sha256:00',
      });
      expectValid('Problem', unauthenticated.json());
    });
    it('describes keys and release verdicts, trusted or not', async () => {
      expectValid(
        'KeysResponse',
        (await harness.app.inject({ method: 'GET', url: '/api/v1/signer/keys' })).json(),
      );
      const trusted = await caller.send(
        'GET',
        `/api/v1/signer/verify/referrers?digest=${harness.profile.scannerImageDigest}`,
      );
      expect(trusted.json()).toMatchObject({ trusted: true, source: 'oci-layout', reason: null });
      expectValid('ReleaseVerdict', trusted.json());
      const unsigned = await caller.send(
        'GET',
        `/api/v1/signer/verify/referrers?digest=sha256:${'0'.repeat(64)}`,
      );
      expect(unsigned.json()).toMatchObject({ trusted: false, reason: 'no_signatures' });
      expectValid('ReleaseVerdict', unsigned.json());
    });
  });
});
