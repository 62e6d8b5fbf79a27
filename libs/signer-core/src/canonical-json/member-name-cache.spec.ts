import { randomBytes } from 'node:crypto';
import type { ChainedAuditRecord } from '../audit/audit-record';

type CanonicalJson = typeof import('./canonical-json');

/** A fresh copy of the module: its process-wide member-name cache starts empty of caller names. */
function freshModule(): CanonicalJson {
  let loaded: CanonicalJson | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<CanonicalJson>('./canonical-json');
  });
  return loaded as CanonicalJson;
}

/** Every member name in a JSON value, at any depth. */
function memberNames(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => memberNames(item, into));
  else if (value !== null && typeof value === 'object') {
    for (const [name, member] of Object.entries(value)) {
      into.add(name);
      memberNames(member, into);
    }
  }
  return into;
}

const record: Required<ChainedAuditRecord> = {
  auditId: '01J0000000000000000000000',
  time: '2026-06-01T12:00:00.000Z',
  correlationId: 'c',
  route: 'POST /api/v1/signer/sign/dsse',
  outcome: 'signed',
  tenant: 't',
  installation: 'i',
  caller: { sub: 's', clientId: 'c', tokenJti: 'j' },
  binding: { kind: 'dpop', thumbprint: 't' },
  licenseId: 'l',
  plan: 'p',
  predicateType: 'https://stella-ops.org/attestations/sbom/1',
  subjectDigests: ['sha256:ab'],
  scannerImageDigest: 'sha256:cd',
  gates: { body: 'pass', optok: 'pass', binding: 'pass', scope: 'pass', quota: 'plan_throttled' },
  mode: 'kms',
  keyId: 'k',
  certificateSerial: '01',
  bundleSha256: 'ef',
  latencyMs: 1,
  replayOf: 'r',
  supersedes: 's',
  summary: { refusals: 2, outcomes: { invalid_token: 2 }, until: '2026-06-01T12:00:01.000Z' },
  ceremony: {
    id: '01900000-0000-7000-8000-000000000000',
    event: 'threshold_reached',
    operation: 'key.revoke',
    target: 'release-2026',
    approvals: 2,
    threshold: 2,
  },
  prevHash: 'h0',
  hash: 'h1',
};

describe('canonical JSON member-name cache', () => {
  describe('when a caller sends more distinct member names than the cache holds, before anyone else', () => {
    it("caches at most the bound, keeps every one of the Signer's own names, and serialises all correctly", () => {
      const { canonicalize, memberNameCache, MEMBER_NAME_CACHE_CALLER_ENTRIES } = freshModule();
      const hostile = Object.fromEntries(
        Array.from({ length: 5000 }, (_, i) => [`${randomBytes(6).toString('hex')}-${i}`, i]),
      );
      const text = canonicalize({ predicate: hostile });
      expect(JSON.parse(text)).toEqual({ predicate: hostile });
      expect(Object.keys(JSON.parse(text).predicate)).toEqual(Object.keys(hostile).sort());

      const cache = memberNameCache();
      expect(cache.callerNames).toBe(MEMBER_NAME_CACHE_CALLER_ENTRIES);
      for (const name of memberNames(record)) expect(cache.has(name)).toBe(true);
      for (const name of [
        '_type',
        'subject',
        'digest',
        'sha256',
        'payloadType',
        'signatures',
        'keyid',
        'sig',
      ]) {
        expect(cache.has(name)).toBe(true);
      }
      // Audited records still serialise exactly as JSON.parse reads them back.
      expect(JSON.parse(canonicalize(record))).toEqual(record);
    });
  });

  describe('when a member name is longer than the cached maximum', () => {
    it('is serialised but not cached', () => {
      const { canonicalize, memberNameCache, MEMBER_NAME_CACHE_MAX_LENGTH } = freshModule();
      const long = 'n'.repeat(MEMBER_NAME_CACHE_MAX_LENGTH + 1);
      const longest = 'm'.repeat(MEMBER_NAME_CACHE_MAX_LENGTH);
      expect(canonicalize({ [long]: 1, [longest]: 2 })).toBe(`{"${longest}":2,"${long}":1}`);
      expect(memberNameCache().has(long)).toBe(false);
      expect(memberNameCache().has(longest)).toBe(true);
      expect(memberNameCache().callerNames).toBe(1);
    });
  });
});
