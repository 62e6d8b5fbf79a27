import type { EntitlementClaims, SignatureEvidence, VerifiedOpTok } from '../model';
import { assertScope, assertTenantBinding } from './caller';
import { assertEntitlementActive, assertReleaseWindow, resolvePlanLimits } from './entitlement';
import { decideRelease } from './release-trust';
import { assertArtifactSize, assertPredicateAllowed } from './request';
import { compareSemVer, parseSemVer } from './semver';

const claims: EntitlementClaims = {
  active: true,
  revoked: false,
  licenseId: 'l',
  tenant: 't',
  plan: 'pro',
  expiresAt: 2000,
};
const token: VerifiedOpTok = {
  subject: 's',
  tenant: 't',
  scopes: ['signer.sign'],
  expiresAt: 2000,
  confirmation: {},
  tokenHash: 'h',
};
const PLAN = { qps: 10, burst: 20, concurrency: 2, maxArtifactBytes: 1000, dailyCap: 50 };

function semver(text: string) {
  const parsed = parseSemVer(text);
  if (!parsed) throw new Error(`not semver: ${text}`);
  return parsed;
}

describe('semver', () => {
  describe('when comparing versions', () => {
    it.each([
      ['1.0.0', '1.0.1', -1],
      ['1.10.0', '1.9.0', 1],
      ['1.0.0-alpha', '1.0.0', -1],
      ['1.0.0-alpha', '1.0.0-alpha.1', -1],
      ['1.0.0-alpha.beta', '1.0.0-beta', -1],
      ['1.0.0-beta.2', '1.0.0-beta.11', -1],
      ['1.0.0-rc.1', '1.0.0', -1],
      ['v2.4.1', '2.4.1+build.7', 0],
    ])('orders %s vs %s as %i', (a, b, expected) => {
      expect(compareSemVer(semver(a), semver(b))).toBe(expected);
    });
  });
  describe('when the text is not semver', () => {
    it.each([['1.0'], ['01.0.0'], ['latest'], ['']])('returns null for %s', (text) => {
      expect(parseSemVer(text)).toBeNull();
    });
  });
});

describe('entitlement policies', () => {
  describe('when the licence is not usable', () => {
    it.each([
      ['inactive', { active: false }],
      ['revoked', { revoked: true }],
      ['expired', { expiresAt: 1000 }],
    ])('denies a %s licence', (_name, patch) => {
      expect(() => assertEntitlementActive({ ...claims, ...patch }, 1000)).toThrow(
        expect.objectContaining({ code: 'entitlement_denied' }),
      );
    });
  });
  describe('when the release window is set', () => {
    it('allows a release inside it', () => {
      expect(() =>
        assertReleaseWindow(
          { ...claims, validReleaseYear: 2026, maxVersion: '2.4.1' },
          { version: '2.4.1', created: '2026-12-31T23:59:59Z' },
        ),
      ).not.toThrow();
    });
    it.each([
      [
        'a release year after the window',
        { validReleaseYear: 2025 },
        { version: '1.0.0', created: '2026-01-01T00:00:00Z' },
      ],
      ['a version above max_version', { maxVersion: '2.4.0' }, { version: '2.4.1' }],
      ['a pre-release of a later version', { maxVersion: '2.4.0' }, { version: '2.5.0-rc.1' }],
      ['missing created when a year is set', { validReleaseYear: 2030 }, { version: '1.0.0' }],
      ['missing version when max_version is set', { maxVersion: '9.9.9' }, {}],
      ['unparsable version', { maxVersion: '9.9.9' }, { version: 'latest' }],
    ])('denies %s', (_name, window, release) => {
      expect(() => assertReleaseWindow({ ...claims, ...window }, release)).toThrow(
        expect.objectContaining({ code: 'entitlement_denied' }),
      );
    });
    it('allows anything when the PoE sets no window', () => {
      expect(() => assertReleaseWindow(claims, null)).not.toThrow();
    });
  });
  describe('when resolving plan limits', () => {
    it('applies PoE overrides over the plan', () => {
      expect(resolvePlanLimits({ pro: PLAN }, { ...claims, limits: { qps: 1 } })).toEqual({
        ...PLAN,
        qps: 1,
      });
    });
    it('ignores malformed overrides', () => {
      expect(resolvePlanLimits({ pro: PLAN }, { ...claims, limits: { qps: -1, burst: Number.NaN } })).toEqual(
        PLAN,
      );
    });
    it('denies an unknown plan, including prototype names', () => {
      expect(() => resolvePlanLimits({ pro: PLAN }, { ...claims, plan: 'toString' })).toThrow(
        expect.objectContaining({ code: 'entitlement_denied' }),
      );
    });
  });
});

describe('caller policies', () => {
  it('requires the scope', () => {
    expect(() => assertScope({ ...token, scopes: ['signer.signx'] }, 'signer.sign')).toThrow(
      expect.objectContaining({ code: 'insufficient_scope' }),
    );
  });
  it('binds tenant and installation', () => {
    expect(() => assertTenantBinding(token, { ...claims, tenant: 'u' })).toThrow(
      expect.objectContaining({ code: 'tenant_mismatch' }),
    );
    expect(() => assertTenantBinding(token, { ...claims, installation: 'i' })).toThrow(
      expect.objectContaining({ code: 'tenant_mismatch' }),
    );
    expect(() =>
      assertTenantBinding({ ...token, installation: 'i' }, { ...claims, installation: 'i' }),
    ).not.toThrow();
  });
});

describe('request policies', () => {
  it('refuses predicates not allowed and statements too large', () => {
    expect(() => assertPredicateAllowed('x', ['y'])).toThrow(
      expect.objectContaining({ code: 'predicate_unsupported' }),
    );
    expect(() => assertArtifactSize(1001, 1000)).toThrow(
      expect.objectContaining({ code: 'artifact_too_large' }),
    );
    expect(() => assertArtifactSize(1000, 1000)).not.toThrow();
  });
});

describe('decideRelease', () => {
  const good = (digest: string, version = '1.0.0'): SignatureEvidence => ({
    kind: 'cosign',
    manifestDigest: digest,
    verified: true,
    keyId: 'k',
    metadata: { version },
  });
  describe('when the evidence is decisive', () => {
    it('trusts one verified signature and reports its metadata', () => {
      expect(decideRelease('d', 'oci-layout', [good('sha256:1')])).toMatchObject({
        trusted: true,
        release: { version: '1.0.0' },
        reason: null,
      });
    });
    it('trusts when an untrusted signature sits beside a verified one', () => {
      const verdict = decideRelease('d', 'oci-layout', [
        good('sha256:1'),
        { kind: 'cosign', manifestDigest: 'sha256:2', verified: false, problem: 'untrusted_key' },
      ]);
      expect(verdict.trusted).toBe(true);
    });
  });
  describe('when the evidence is not decisive', () => {
    it.each([
      ['no signatures', [], 'no_signatures'],
      [
        'only untrusted keys',
        [{ kind: 'cosign', manifestDigest: 'm', verified: false, problem: 'untrusted_key' }],
        'untrusted_key',
      ],
      [
        'a signature over another digest',
        [{ kind: 'cosign', manifestDigest: 'm', verified: false, problem: 'digest_mismatch' }],
        'digest_mismatch',
      ],
      [
        'a malformed manifest',
        [{ kind: 'cosign', manifestDigest: 'm', verified: false, problem: 'malformed_manifest' }],
        'malformed_manifest',
      ],
      [
        'two verified signatures disagreeing',
        [good('sha256:1', '1.0.0'), good('sha256:2', '2.0.0')],
        'conflicting_metadata',
      ],
    ] as Array<[string, SignatureEvidence[], string]>)('distrusts %s', (_name, evidence, reason) => {
      expect(decideRelease('d', 'oci-layout', evidence)).toMatchObject({
        trusted: false,
        reason,
        release: null,
      });
    });
  });
});
