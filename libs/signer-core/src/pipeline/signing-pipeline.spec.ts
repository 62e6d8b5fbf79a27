import { generateKeyPairSync, sign } from 'node:crypto';
import { SignerError } from '../errors';
import type { AuditRecord } from '../audit/audit-record';
import type { EntitlementClaims, ReleaseVerdict, SignDsseRequest, VerifiedOpTok } from '../model';
import type { AuditSink } from '../ports/audit-sink';
import type { KeySigner } from '../ports/key-signer';
import type { QuotaGate, QuotaLease } from '../ports/quota-gate';
import { CallerAuthenticator } from './caller-authenticator';
import { DecisionLog } from './decision-log';
import { SIGN_ROUTE, SigningPipeline, type SigningPipelineOptions } from './signing-pipeline';

type SetupOverrides = Partial<SigningPipelineOptions> & { audit?: AuditSink };

const DIGEST = `sha256:${'ab'.repeat(32)}`;
const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const body: SignDsseRequest = {
  subject: [{ name: 'a', digest: { sha256: 'cd'.repeat(32) } }],
  predicateType: 'p/1',
  predicate: { x: 1 },
  scannerImageDigest: DIGEST,
  poe: { format: 'jwt', value: 'poe' },
};
const token: VerifiedOpTok = {
  subject: 'svc',
  tenant: 't',
  scopes: ['signer.sign'],
  expiresAt: 2_000_000_000,
  confirmation: { jkt: 'k' },
  tokenHash: 'h',
};
const claims: EntitlementClaims = {
  active: true,
  revoked: false,
  licenseId: 'lic',
  tenant: 't',
  plan: 'pro',
  expiresAt: 2_000_000_000,
};
const trusted: ReleaseVerdict = {
  digest: DIGEST,
  trusted: true,
  source: 'oci-layout',
  signatures: [],
  release: { version: '1.0.0' },
  reason: null,
};

class RecordingLease implements QuotaLease {
  readonly qpsRemaining = 9;
  readonly releases: string[] = [];
  async release(outcome: 'signed' | 'failed'): Promise<void> {
    this.releases.push(outcome);
  }
}

function setup(overrides: SetupOverrides = {}, signer?: Partial<KeySigner>) {
  const { audit: auditOverride, ...options } = overrides;
  const calls: string[] = [];
  const audits: AuditRecord[] = [];
  const lease = new RecordingLease();
  const quotas: QuotaGate = {
    acquire: async () => {
      calls.push('quota');
      return lease;
    },
  };
  const keySigner: KeySigner = {
    keyId: 'default',
    mode: 'kms',
    algorithm: 'ES256',
    sign: async (data) => {
      calls.push('sign');
      return {
        signature: sign('sha256', data, privateKey),
        dsseKeyId: 'default',
        identity: { keyId: 'default' },
      };
    },
    describe: async () => ({ keyId: 'default', algorithm: 'ES256', publicKeyPem: '' }),
    ...signer,
  };
  const audit: AuditSink = {
    append: async (record) => {
      calls.push(`audit:${record.outcome}`);
      audits.push(structuredClone(record));
    },
    close: async () => undefined,
  };
  const authenticator = new CallerAuthenticator(
    {
      verify: async () => {
        calls.push('optok');
        return token;
      },
    },
    {
      verify: async () => {
        calls.push('binding');
        return { kind: 'dpop', thumbprint: 'k' };
      },
    },
    'signer.sign',
  );
  const clock = { now: () => new Date('2030-01-01T00:00:00Z') };
  const decisions = new DecisionLog({ audit: auditOverride ?? audit, clock });
  const pipeline = new SigningPipeline({
    schema: { parse: (value) => value as SignDsseRequest },
    authenticator,
    entitlements: {
      verify: async () => {
        calls.push('poe');
        return claims;
      },
    },
    releases: {
      verify: async () => {
        calls.push('release');
        return trusted;
      },
    },
    quotas,
    signers: { resolve: () => keySigner, all: () => [keySigner] },
    bundles: { encode: () => ({ mediaType: 'bundle' }) },
    decisions,
    clock,
    policy: {
      requiredScope: 'signer.sign',
      allowedPredicates: ['p/1'],
      plans: { pro: { qps: 10, burst: 10, concurrency: 2, maxArtifactBytes: 100000, dailyCap: 100 } },
      defaultMode: 'kms',
    },
    ...options,
  });
  const invoke = (request: unknown = body) =>
    pipeline.sign({
      trail: decisions.begin('c', SIGN_ROUTE),
      body: request,
      credentials: { authorization: 'DPoP abc', dpopProof: 'p', method: 'POST', htu: 'http://x/y' },
    });
  return { pipeline, decisions, invoke, calls, audits, lease };
}

describe('SigningPipeline', () => {
  describe('when every gate passes', () => {
    it('runs the gates in the contract order and audits before answering', async () => {
      const { invoke, calls, audits, lease } = setup();
      const response = await invoke();
      expect(calls).toEqual(['optok', 'binding', 'poe', 'release', 'quota', 'sign', 'audit:signed']);
      expect(lease.releases).toEqual(['signed']);
      expect(response.auditId).toBe(audits[0].auditId);
      expect(response.policy).toEqual({ plan: 'pro', maxArtifactBytes: 100000, qpsRemaining: 9 });
      expect(audits[0].gates).toEqual({
        body: 'pass',
        optok: 'pass',
        binding: 'pass',
        scope: 'pass',
        poe: 'pass',
        release: 'pass',
        predicate: 'pass',
        size: 'pass',
        quota: 'pass',
        sign: 'pass',
      });
      // The record cannot attest its own durability: `audit` is the gate that writes it.
    });
  });

  describe('when signing fails after the quota slot was reserved', () => {
    it('releases the slot as failed, audits the refusal and answers its code', async () => {
      const { invoke, audits, lease } = setup(
        {},
        {
          sign: async () => {
            throw new SignerError('upstream_unavailable', 'kms down', { upstream: 'kms' });
          },
        },
      );
      await expect(invoke()).rejects.toMatchObject({
        code: 'upstream_unavailable',
        auditId: expect.any(String),
      });
      expect(lease.releases).toEqual(['failed']);
      expect(audits).toHaveLength(1);
      expect(audits[0]).toMatchObject({
        outcome: 'upstream_unavailable',
        gates: { quota: 'pass', sign: 'upstream_unavailable' },
      });
    });
  });

  describe('when the audit record cannot be made durable', () => {
    it('returns no signature: 503 upstream_unavailable and the slot released as failed', async () => {
      const failing: AuditSink = {
        append: async () => {
          throw new SignerError('upstream_unavailable', 'disk full', { upstream: 'audit' });
        },
        close: async () => undefined,
      };
      const { invoke, lease } = setup({ audit: failing });
      await expect(invoke()).rejects.toMatchObject({ code: 'upstream_unavailable', upstream: 'audit' });
      expect(lease.releases).toEqual(['failed']);
    });
  });

  describe('when an unexpected error escapes a port', () => {
    it('becomes internal_error with the cause kept, audited', async () => {
      const { invoke, audits } = setup(
        {},
        {
          sign: async () => {
            throw new TypeError('boom');
          },
        },
      );
      const error = (await invoke().catch((e: unknown) => e)) as SignerError;
      expect(error).toMatchObject({ code: 'internal_error' });
      expect((error.cause as Error).message).toBe('boom');
      expect(audits[0].outcome).toBe('internal_error');
    });
  });

  describe('when an early gate refuses', () => {
    it('stops there, reserves nothing and audits the refusal', async () => {
      const { invoke, calls, audits, lease } = setup({
        releases: { verify: async () => ({ ...trusted, trusted: false, reason: 'untrusted_key' }) },
      });
      await expect(invoke()).rejects.toMatchObject({ code: 'release_untrusted' });
      expect(calls).not.toContain('quota');
      expect(calls).not.toContain('sign');
      expect(lease.releases).toEqual([]);
      expect(audits[0]).toMatchObject({
        outcome: 'release_untrusted',
        tenant: 't',
        licenseId: 'lic',
        gates: { release: 'release_untrusted' },
      });
    });
    it('refuses a PoE for another tenant with tenant_mismatch before release integrity', async () => {
      const { invoke, calls } = setup({
        entitlements: { verify: async () => ({ ...claims, tenant: 'other' }) },
      });
      await expect(invoke()).rejects.toMatchObject({ code: 'tenant_mismatch' });
      expect(calls).not.toContain('release');
    });
    it('refuses a missing scope with insufficient_scope before the PoE', async () => {
      const { pipeline, decisions, calls } = setup();
      const narrow = new CallerAuthenticator(
        { verify: async () => ({ ...token, scopes: ['signer.read'] }) },
        { verify: async () => ({ kind: 'dpop', thumbprint: 'k' }) },
        'signer.sign',
      );
      Object.assign(pipeline, {
        options: {
          ...(pipeline as unknown as { options: SigningPipelineOptions }).options,
          authenticator: narrow,
        },
      });
      await expect(
        pipeline.sign({
          trail: decisions.begin('c', SIGN_ROUTE),
          body,
          credentials: { authorization: 'DPoP abc', method: 'POST', htu: 'http://x/y' },
        }),
      ).rejects.toMatchObject({ code: 'insufficient_scope' });
      expect(calls).not.toContain('poe');
    });
  });

  describe('when concurrent requests share one upstream failure', () => {
    it('gives each decision its own audit id and record, and leaves the shared error untouched', async () => {
      const shared = new SignerError('upstream_unavailable', 'fulcio refused', { upstream: 'fulcio' });
      const { invoke, audits } = setup(
        {},
        {
          sign: async () => {
            throw shared;
          },
        },
      );
      const refusals = (await Promise.all(
        Array.from({ length: 20 }, () => invoke().catch((e: unknown) => e)),
      )) as SignerError[];
      const ids = refusals.map((r) => r.auditId);
      expect(new Set(ids).size).toBe(20);
      expect(audits.map((r) => r.auditId).sort()).toEqual([...ids].sort());
      expect(refusals.every((r) => r !== shared && r.code === 'upstream_unavailable')).toBe(true);
      expect(shared.auditId).toBeUndefined();
    });
  });

  describe('when an anonymous body has no canonical form', () => {
    it('answers the token refusal first: canonicalisation waits for authentication', async () => {
      const { invoke, audits } = setup({
        authenticator: new CallerAuthenticator(
          {
            verify: async () => {
              throw new SignerError('invalid_token', 'expected a valid signature');
            },
          },
          { verify: async () => ({ kind: 'dpop', thumbprint: 'k' }) },
          'signer.sign',
        ),
      });
      const deep = { predicate: { text: 'lone \ud800 surrogate' } };
      await expect(invoke({ ...body, ...deep })).rejects.toMatchObject({ code: 'invalid_token' });
      expect(audits[0].gates).toEqual({ body: 'pass', optok: 'invalid_token' });
    });
  });
});
