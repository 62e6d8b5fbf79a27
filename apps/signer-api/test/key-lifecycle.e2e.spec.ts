import { generateKeyPairSync, verify } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv from 'ajv';
import { preAuthEncoding, spkiFingerprint } from '@signer/core';
import { KeysResponseSchema } from '../src/http/response.schemas';
import { adminReadyz } from './admin-readyz';
import { startWithCaller, validBody, type Caller, type Harness } from './harness';

const DAY_MS = 86_400_000;

interface PublishedKey {
  keyId: string;
  name: string;
  state: string;
  publicKeyPem: string;
  isDefault: boolean;
  defaultFor: string[];
  history: Array<{ state: string; ceremonyId?: string }>;
}

describe("key lifecycle on one Signer (managed state in the embedded profile's file store)", () => {
  let harness: Harness;
  let caller: Caller;
  const validFrom = new Date(Date.now() - 350 * DAY_MS).toISOString();

  const keys = async () =>
    (await harness.app.inject({ method: 'GET', url: '/api/v1/signer/keys' })).json() as {
      keys: PublishedKey[];
      trustAnchors: Array<{ keyId: string; publicKeyPem: string; label?: string }>;
      stateVersion: number;
    };
  const keyNamed = async (name: string) => (await keys()).keys.find((k) => k.name === name) as PublishedKey;
  const sign = (options: Record<string, unknown> = {}) =>
    caller.sign(validBody(harness, { options: { signingMode: 'kms', ...options } }));
  const metrics = async () => (await harness.app.inject({ method: 'GET', url: '/metrics' })).body;

  beforeAll(async () => {
    ({ harness, caller } = await startWithCaller({
      configure: (config, dir) => {
        const secondary = generateKeyPairSync('ed25519').privateKey;
        writeFileSync(join(dir, 'secondary.pem'), secondary.export({ type: 'pkcs8', format: 'pem' }), {
          mode: 0o600,
        });
        const signing = config['signing'] as { keys: Record<string, Record<string, unknown>> } & Record<
          string,
          unknown
        >;
        signing.keys['default'] = { ...signing.keys['default'], profile: 'yearly', validFrom };
        signing.keys['secondary'] = { ref: `file://${join(dir, 'secondary.pem')}` };
        signing['planDefaults'] = { pro: 'secondary' };
        signing['rotation'] = {
          profiles: { yearly: { algorithms: ['ES256'], maxAgeDays: 365, warningDays: 30 } },
        };
      },
    }));
  }, 60_000);

  afterAll(async () => {
    await harness.close();
  });

  describe('when GET /keys is read', () => {
    it('publishes every managed key with its lifecycle, defaults and the trust anchors, as the schema says', async () => {
      const body = await keys();
      const validate = new Ajv({ strict: false }).compile(KeysResponseSchema);
      expect(validate(body)).toBe(true);
      expect(body.stateVersion).toBe(1);
      expect(body.keys.map((k) => [k.name, k.state, k.isDefault, k.defaultFor])).toEqual([
        ['default', 'active', true, []],
        ['secondary', 'active', false, ['pro']],
      ]);
      for (const key of body.keys) expect(key.keyId).toBe(spkiFingerprint(key.publicKeyPem));
      const trusted = readFileSync(join(harness.dir, 'release/trusted-keys.pem'), 'utf8');
      expect(body.trustAnchors).toEqual([
        expect.objectContaining({ keyId: spkiFingerprint(trusted), label: 'trusted-keys.pem' }),
      ]);
    });
  });

  describe('when a request names no key', () => {
    it("signs with its plan's default key, under that key's fingerprint, verifiable with node:crypto", async () => {
      const secondary = await keyNamed('secondary');
      const response = await sign();
      expect(response.statusCode).toBe(200);
      const { dsse } = response.json().bundle;
      expect(dsse.signatures[0].keyid).toBe(secondary.keyId);
      const pae = preAuthEncoding(dsse.payloadType, Buffer.from(dsse.payload, 'base64'));
      expect(verify(null, pae, secondary.publicKeyPem, Buffer.from(dsse.signatures[0].sig, 'base64'))).toBe(
        true,
      );
    });

    it('accepts a key named by fingerprint as well as by label', async () => {
      const key = await keyNamed('default');
      const response = await sign({ keyId: key.keyId });
      expect(response.statusCode).toBe(200);
      expect(response.json().bundle.signingIdentity.keyId).toBe(key.keyId);
    });
  });

  describe('when a key is inside its rotation warning period', () => {
    it('stays ready, and the admin /readyz and the metrics say how long it has left', async () => {
      const admin = await adminReadyz(harness.runtime);
      expect(admin.statusCode).toBe(200);
      const details = (admin.body as unknown as { details: Record<string, unknown> }).details;
      expect(details['keyWarnings']).toEqual([
        { key: 'default', keyId: (await keyNamed('default')).keyId, daysToExpiry: 14 },
      ]);
      expect(details['state']).toMatchObject({ version: 1, stale: false });
      expect(await metrics()).toMatch(/signer_key_days_to_expiry\{key="default"\} 14\.\d+/);
    });
  });

  describe('when a key is registered by reference through the administrator', () => {
    it('loads it, publishes it pending, signs with it once active, and refuses a reference that does not load', async () => {
      const administrator = harness.runtime.keys.administrator;
      const material = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const file = join(harness.dir, 'registered.pem');
      writeFileSync(file, material.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
      await administrator.apply({ kind: 'key.register', name: 'registered', ref: `file://${file}` }, 'c-reg');
      const pending = await keyNamed('registered');
      expect(pending).toMatchObject({ state: 'pending', keyId: spkiFingerprint(material) });
      expect((await sign({ keyId: 'registered' })).json()).toMatchObject({ code: 'key_not_active' });
      await administrator.apply({ kind: 'key.activate', name: 'registered' }, 'c-act');
      const signed = await sign({ keyId: 'registered' });
      expect(signed.statusCode).toBe(200);
      expect(signed.json().bundle.dsse.signatures[0].keyid).toBe(pending.keyId);
      await expect(
        administrator.apply(
          { kind: 'key.register', name: 'missing', ref: `file://${join(harness.dir, 'missing.pem')}` },
          'c-missing',
        ),
      ).rejects.toMatchObject({ code: 'key_state_conflict' });
    });
  });

  describe('when the release trust anchors change', () => {
    it('applies at once, without reusing a verdict reached under other anchors', async () => {
      const administrator = harness.runtime.keys.administrator;
      const original = (await keys()).trustAnchors[0];
      expect((await sign()).statusCode).toBe(200);
      const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({
        type: 'spki',
        format: 'pem',
      });
      await administrator.apply(
        { kind: 'trust-anchor.add', publicKeyPem: stranger.toString() },
        'c-anchor-1',
      );
      await administrator.apply({ kind: 'trust-anchor.remove', keyId: original.keyId }, 'c-anchor-2');
      const refused = await sign();
      expect(refused.statusCode).toBe(403);
      expect(refused.json().code).toBe('release_untrusted');
      await administrator.apply(
        { kind: 'trust-anchor.add', publicKeyPem: original.publicKeyPem, label: 'restored' },
        'c-anchor-3',
      );
      expect((await sign()).statusCode).toBe(200);
      expect((await keys()).trustAnchors.map((a) => a.label)).toEqual([undefined, 'restored']);
    });
  });

  describe('when a key is revoked through the administrator', () => {
    it('refuses it at once with key_not_active, falls back to the installation default, and counts it', async () => {
      const administrator = harness.runtime.keys.administrator;
      const committed = await administrator.apply(
        { kind: 'key.revoke', name: 'secondary', reason: 'rotation drill' },
        'c-revoke',
      );
      expect(committed.defaults).toEqual({ installation: 'default', plans: {} });
      const named = await sign({ keyId: 'secondary' });
      expect(named.statusCode).toBe(409);
      expect(named.json()).toMatchObject({ code: 'key_not_active', status: 409 });
      const fallback = await sign();
      expect(fallback.statusCode).toBe(200);
      expect(fallback.json().bundle.signingIdentity.keyId).toBe((await keyNamed('default')).keyId);
      expect(await keyNamed('secondary')).toMatchObject({
        state: 'revoked',
        revocationReason: 'rotation drill',
        history: [{ state: 'active' }, { state: 'revoked', ceremonyId: 'c-revoke' }],
      });
      const text = await metrics();
      expect(text).toContain('signer_rotation_events_total{event="revoked"} 1');
      expect(text).toContain('signer_keys_revoked_total 1');
      const audited = harness.auditLines().find((r) => r['auditId'] === named.json().auditId);
      expect(audited).toMatchObject({ outcome: 'key_not_active' });
    });

    it('refuses a lifecycle change the rules forbid with key_state_conflict', async () => {
      await expect(
        harness.runtime.keys.administrator.apply({ kind: 'key.activate', name: 'secondary' }, 'c-again'),
      ).rejects.toMatchObject({ code: 'key_state_conflict' });
    });
  });
});
