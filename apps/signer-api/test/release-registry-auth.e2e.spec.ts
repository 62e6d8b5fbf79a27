import { generateReleaseKey } from '@signer/dev';
import {
  buildRegistryRelease,
  DockerRegistry,
  publishToDockerRegistry,
  RegistryTokenIssuer,
  type RegistryRelease,
} from '@signer/testing';
import { expectProblem, expectVerdict, startRegistryHarness, type RegistryHarness } from './release-harness';

// Starts the real registry with token auth, and the token service it trusts.
jest.setTimeout(60_000);

const SERVICE = 'stella-ops-release-registry';
const PUSHER = { username: 'release-pipeline', password: 'pipeline-secret-7f3a' };
const READER = { username: 'signer', password: 'signer-secret-91c2' };
const trustedKey = generateReleaseKey('ecdsa-p256');

describe('release integrity against a registry with bearer-token auth', () => {
  let issuer: RegistryTokenIssuer;
  let registry: DockerRegistry;
  let host: string;
  const releases: RegistryRelease[] = [];
  const signers: RegistryHarness[] = [];

  async function signerWith(registryAuth?: Record<string, unknown>): Promise<RegistryHarness> {
    const signer = await startRegistryHarness({
      registryUrl: registry.baseUrl,
      trustedKeys: [trustedKey],
      registryAuth,
    });
    signers.push(signer);
    return signer;
  }

  beforeAll(async () => {
    issuer = await RegistryTokenIssuer.start({
      service: SERVICE,
      issuer: 'stella-ops-token-issuer',
      users: {
        [PUSHER.username]: { password: PUSHER.password, actions: ['pull', 'push'] },
        [READER.username]: { password: READER.password, actions: ['pull'] },
      },
    });
    registry = await DockerRegistry.start({
      auth: {
        realm: issuer.realm,
        service: SERVICE,
        issuer: 'stella-ops-token-issuer',
        rootCertBundle: issuer.certificatePath,
      },
    });
    host = new URL(registry.baseUrl).host;
    for (const version of ['1.4.2', '1.4.3']) {
      const release = buildRegistryRelease({ version, signatures: [{ key: trustedKey }] });
      await publishToDockerRegistry(registry, release, { credentials: PUSHER });
      releases.push(release);
    }
  });

  afterAll(async () => {
    for (const signer of signers) await signer.close();
    await registry?.stop();
    await issuer?.close();
  });

  describe('when the Signer has pull credentials for the registry host', () => {
    it('answers the bearer challenge, verifies both releases, and fetches one token for both walks', async () => {
      const signer = await signerWith({ [host]: READER });
      for (const release of releases) {
        expectVerdict(await signer.verify(release.scannerDigest), {
          trusted: true,
          reason: null,
          source: 'tag-schema',
        });
      }
      expect((await signer.sign(releases[0].scannerDigest)).statusCode).toBe(200);
      const readerRequests = issuer.requests.filter((r) => r.user === READER.username);
      expect(readerRequests).toEqual([
        { user: READER.username, scopes: ['repository:stella-ops/scanner:pull'], status: 200 },
      ]);
    });
  });

  describe('when the token service refuses the credentials', () => {
    it('reports registry_error and refuses to sign with 403 release_untrusted', async () => {
      const signer = await signerWith({ [host]: { username: READER.username, password: 'wrong-password' } });
      const digest = releases[0].scannerDigest;
      expectVerdict(await signer.verify(digest), {
        trusted: false,
        reason: 'registry_error',
        source: 'referrers-api',
      });
      expectProblem(await signer.sign(digest), 403, 'release_untrusted');
      const logs = signer.harness.logs.lines.join('\n');
      expect(logs).not.toContain('wrong-password');
    });
  });

  describe('when no credentials are configured for the registry host', () => {
    it('tries anonymously and reports registry_error', async () => {
      const signer = await signerWith({});
      expectVerdict(await signer.verify(releases[1].scannerDigest), {
        trusted: false,
        reason: 'registry_error',
        source: 'referrers-api',
      });
    });
  });

  describe('when the registry refuses the token it is given (signed by a key it does not trust)', () => {
    beforeAll(() => {
      issuer.mode = 'wrong-key';
    });
    afterAll(() => {
      issuer.mode = 'issue';
    });

    it('reports registry_error and refuses to sign with 403 release_untrusted', async () => {
      const signer = await signerWith({ [host]: READER });
      const digest = releases[1].scannerDigest;
      expectVerdict(await signer.verify(digest), {
        trusted: false,
        reason: 'registry_error',
        source: 'referrers-api',
      });
      expectProblem(await signer.sign(digest), 403, 'release_untrusted');
    });
  });
});
