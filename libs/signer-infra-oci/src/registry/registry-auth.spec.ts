import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ScriptedServer, type ScriptedAnswer, type SeenRequest } from '../../test/scripted-server';
import { RegistryClient } from './registry-client';
import { RegistryError } from './registry-error';
import { RegistryAuth } from './registry-auth';

const MANIFEST = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json"}');
const DIGEST = `sha256:${createHash('sha256').update(MANIFEST).digest('hex')}`;
const REPOSITORY = 'stella-ops/scanner';
const signal = () => AbortSignal.timeout(5000);

interface TokenScript {
  status?: number;
  body?: string;
}

describe('RegistryAuth with RegistryClient', () => {
  const servers: ScriptedServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  /** A token service and a registry that wants `Bearer tok-<n>` from it. */
  async function bearerRegistry(token: TokenScript = {}) {
    let issued = 0;
    const tokens = await ScriptedServer.start(() => {
      issued += 1;
      return {
        status: token.status ?? 200,
        headers: { 'content-type': 'application/json' },
        body: token.body ?? JSON.stringify({ token: `tok-${issued}`, expires_in: 60 }),
      };
    });
    const registry = await ScriptedServer.start((request: SeenRequest): ScriptedAnswer =>
      /^Bearer tok-\d+$/.test(String(request.headers.authorization))
        ? {
            status: 200,
            headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
            body: MANIFEST,
          }
        : {
            status: 401,
            headers: {
              'www-authenticate': `Bearer realm="${tokens.baseUrl}/token",service="reg.test",scope="repository:${REPOSITORY}:pull"`,
            },
          },
    );
    servers.push(tokens, registry);
    return { tokens, registry };
  }

  describe('when the registry answers with a bearer challenge', () => {
    it('gets a token with the basic credentials, service and scope, and retries with it', async () => {
      const { tokens, registry } = await bearerRegistry();
      const client = new RegistryClient({
        registryUrl: registry.baseUrl,
        repository: REPOSITORY,
        credential: { username: 'signer', password: 's3cret' },
      });
      expect(await client.manifestByDigest(DIGEST, 4096, signal())).toEqual(MANIFEST);
      const tokenUrl = new URL(tokens.seen[0].path, tokens.baseUrl);
      expect(tokenUrl.searchParams.get('service')).toBe('reg.test');
      expect(tokenUrl.searchParams.get('scope')).toBe(`repository:${REPOSITORY}:pull`);
      expect(tokens.seen[0].headers.authorization).toBe(
        `Basic ${Buffer.from('signer:s3cret').toString('base64')}`,
      );
      expect(registry.seen.map((r) => r.headers.authorization)).toEqual([undefined, 'Bearer tok-1']);
    });

    it('reuses the token until shortly before it expires, then gets a new one', async () => {
      const { tokens, registry } = await bearerRegistry();
      let now = 1_000_000;
      const client = new RegistryClient({
        registryUrl: registry.baseUrl,
        repository: REPOSITORY,
        now: () => now,
      });
      await client.manifestByDigest(DIGEST, 4096, signal());
      now += 49_000; // expires_in 60 less the 10 s margin: still fresh
      await client.manifestByDigest(DIGEST, 4096, signal());
      expect(tokens.seen).toHaveLength(1);
      now += 2_000;
      await client.manifestByDigest(DIGEST, 4096, signal());
      expect(tokens.seen).toHaveLength(2);
      expect(registry.seen[registry.seen.length - 1].headers.authorization).toBe('Bearer tok-2');
    });
  });

  describe('when the token service does not hand out a usable token', () => {
    it.each<[string, RegistryError['kind'], TokenScript]>([
      ['refuses the credentials', 'refused', { status: 401 }],
      ['is not there', 'refused', { status: 404 }],
      ['fails', 'unavailable', { status: 503 }],
      ['answers junk', 'refused', { body: 'not json' }],
      ['answers a token that is not header-safe', 'refused', { body: JSON.stringify({ token: 'a\nb' }) }],
    ])('when it %s, throws RegistryError %s', async (_label, kind, script) => {
      const { registry } = await bearerRegistry(script);
      const client = new RegistryClient({ registryUrl: registry.baseUrl, repository: REPOSITORY });
      const error = await client.manifestByDigest(DIGEST, 4096, signal()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({ kind });
    });
  });

  describe('when the registry wants basic auth', () => {
    async function basicRegistry() {
      const expected = `Basic ${Buffer.from('signer:pw').toString('base64')}`;
      const registry = await ScriptedServer.start((request): ScriptedAnswer =>
        request.headers.authorization === expected
          ? {
              status: 200,
              headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
              body: MANIFEST,
            }
          : { status: 401, headers: { 'www-authenticate': 'Basic realm="registry"' } },
      );
      servers.push(registry);
      return registry;
    }

    it('answers with the configured credentials, then sends them up front', async () => {
      const registry = await basicRegistry();
      const client = new RegistryClient({
        registryUrl: registry.baseUrl,
        repository: REPOSITORY,
        credential: { username: 'signer', password: 'pw' },
      });
      await client.manifestByDigest(DIGEST, 4096, signal());
      await client.manifestByDigest(DIGEST, 4096, signal());
      expect(registry.seen).toHaveLength(3);
    });

    it('is refused without credentials', async () => {
      const registry = await basicRegistry();
      const client = new RegistryClient({ registryUrl: registry.baseUrl, repository: REPOSITORY });
      await expect(client.manifestByDigest(DIGEST, 4096, signal())).rejects.toMatchObject({
        kind: 'refused',
      });
    });
  });

  describe('when a static token is configured', () => {
    it('sends it up front and treats a challenge as a refusal', async () => {
      const auth = new RegistryAuth({
        registryUrl: new URL('https://registry.example'),
        credential: { token: 'static-1' },
      });
      expect(auth.preemptive('repository:x:pull')).toBe('Bearer static-1');
      await expect(
        auth.answer('Bearer realm="https://t.example"', 'repository:x:pull', signal()),
      ).rejects.toMatchObject({
        kind: 'refused',
      });
    });
  });

  describe('when an https registry names a plain-http realm', () => {
    it('refuses to send credentials there', async () => {
      const auth = new RegistryAuth({
        registryUrl: new URL('https://registry.example'),
        credential: { username: 'u', password: 'p' },
      });
      await expect(
        auth.answer('Bearer realm="http://127.0.0.1:9/token"', 's', signal()),
      ).rejects.toMatchObject({
        kind: 'refused',
        message: expect.stringContaining('https realm'),
      });
    });
  });
});
