import { afterEach, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { ScriptedServer, type Script } from '../../test/scripted-server';
import type { Descriptor } from '../oci/descriptor';
import { RegistryClient } from './registry-client';
import { RegistryError } from './registry-error';

const REPOSITORY = 'stella-ops/scanner';
const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const BLOB = Buffer.from('{"critical":{}}');
const blobDescriptor: Descriptor = {
  mediaType: 'x',
  digest: sha256(BLOB),
  size: BLOB.length,
  annotations: {},
};
const SUBJECT = `sha256:${'cd'.repeat(32)}`;
const COSIGN = 'application/vnd.dev.cosign.artifact.sig.v1+json';
const signal = () => AbortSignal.timeout(5000);

function index(manifests: unknown[]): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests,
  });
}

function referrer(n: number, artifactType: string): Descriptor {
  return {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
    size: 10,
    artifactType,
    annotations: {},
  };
}

describe('RegistryClient', () => {
  const servers: ScriptedServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  async function client(script: Script): Promise<{ client: RegistryClient; server: ScriptedServer }> {
    const server = await ScriptedServer.start(script);
    servers.push(server);
    return { server, client: new RegistryClient({ registryUrl: server.baseUrl, repository: REPOSITORY }) };
  }

  async function failure(promise: Promise<unknown>): Promise<RegistryError> {
    const error = await promise.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    return error as RegistryError;
  }

  describe('when fetching a manifest by digest', () => {
    it('asks for every OCI and Docker manifest type', async () => {
      const manifest = Buffer.from('{}');
      const { client: c, server } = await client(() => ({ status: 200, body: manifest }));
      await c.manifestByDigest(sha256(manifest), 1024, signal());
      expect(server.seen[0].path).toBe(`/v2/${REPOSITORY}/manifests/${sha256(manifest)}`);
      expect(String(server.seen[0].headers.accept).split(', ')).toEqual([
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
      ]);
    });

    it('refuses bytes that do not hash to the digest (integrity)', async () => {
      const { client: c } = await client(() => ({ status: 200, body: '{"other":true}' }));
      expect(await failure(c.manifestByDigest(SUBJECT, 1024, signal()))).toMatchObject({ kind: 'integrity' });
    });

    it('stops reading past maxBytes (too_large)', async () => {
      const { client: c } = await client(() => ({ status: 200, body: Buffer.alloc(5000, 0x20) }));
      expect(await failure(c.manifestByDigest(SUBJECT, 1024, signal()))).toMatchObject({ kind: 'too_large' });
    });
  });

  describe('when fetching a blob', () => {
    it('returns bytes that match the descriptor', async () => {
      const { client: c } = await client(() => ({ status: 200, body: BLOB }));
      expect(await c.blob(blobDescriptor, 1024, signal())).toEqual(BLOB);
    });

    it.each([
      ['longer than declared', Buffer.concat([BLOB, Buffer.from('  ')])],
      ['other bytes of the same length', Buffer.from('{"critical":[]}')],
    ])('refuses a body %s', async (_label, body) => {
      const { client: c } = await client(() => ({ status: 200, body }));
      const error = await failure(c.blob(blobDescriptor, 1024, signal()));
      expect(['integrity', 'too_large']).toContain(error.kind);
    });

    it('does not even ask for a blob larger than maxBytes', async () => {
      const { client: c, server } = await client(() => ({ status: 200, body: BLOB }));
      expect(await failure(c.blob({ ...blobDescriptor, size: 4096 }, 1024, signal()))).toMatchObject({
        kind: 'too_large',
      });
      expect(server.seen).toHaveLength(0);
    });
  });

  describe('when the registry redirects', () => {
    it('follows a same-origin redirect with credentials and a cross-origin one without', async () => {
      const storage = await ScriptedServer.start(() => ({ status: 200, body: BLOB }));
      servers.push(storage);
      const server = await ScriptedServer.start((request) =>
        request.path.startsWith('/v2/')
          ? { status: 307, headers: { location: '/moved' } }
          : { status: 302, headers: { location: `${storage.baseUrl}/bucket/blob?sig=1` } },
      );
      servers.push(server);
      const c = new RegistryClient({
        registryUrl: server.baseUrl,
        repository: REPOSITORY,
        credential: { token: 'static-token' },
      });
      expect(await c.blob(blobDescriptor, 1024, signal())).toEqual(BLOB);
      expect(server.seen.map((r) => r.headers.authorization)).toEqual([
        'Bearer static-token',
        'Bearer static-token',
      ]);
      expect(storage.seen.map((r) => r.headers.authorization)).toEqual([undefined]);
    });

    it('gives up after too many redirects (refused)', async () => {
      const { client: c, server } = await client(() => ({ status: 307, headers: { location: '/again' } }));
      expect(await failure(c.blob(blobDescriptor, 1024, signal()))).toMatchObject({ kind: 'refused' });
      expect(server.seen).toHaveLength(6);
    });
  });

  describe('when listing referrers', () => {
    it('returns undefined when the registry has no Referrers API (404)', async () => {
      const { client: c } = await client(() => ({ status: 404, body: '404 page not found' }));
      expect(await c.referrers(SUBJECT, COSIGN, 4096, signal())).toBeUndefined();
    });

    it('sends the artifactType filter and notes that it was applied', async () => {
      const { client: c, server } = await client(() => ({
        status: 200,
        headers: { 'oci-filters-applied': 'artifactType' },
        body: index([referrer(1, COSIGN)]),
      }));
      expect(await c.referrers(SUBJECT, COSIGN, 4096, signal())).toEqual({
        descriptors: [referrer(1, COSIGN)],
        filtersApplied: true,
      });
      const url = new URL(server.seen[0].path, server.baseUrl);
      expect(url.pathname).toBe(`/v2/${REPOSITORY}/referrers/${SUBJECT}`);
      expect(url.searchParams.get('artifactType')).toBe(COSIGN);
    });

    it('filters itself when the registry did not, and follows Link pages', async () => {
      const { client: c } = await client((_request, url) =>
        url.searchParams.get('page') === '2'
          ? { status: 200, body: index([referrer(3, COSIGN)]) }
          : {
              status: 200,
              headers: { link: `</v2/${REPOSITORY}/referrers/${SUBJECT}?page=2>; rel="next"` },
              body: index([referrer(1, COSIGN), referrer(2, 'application/spdx+json')]),
            },
      );
      expect(await c.referrers(SUBJECT, COSIGN, 4096, signal())).toEqual({
        descriptors: [referrer(1, COSIGN), referrer(3, COSIGN)],
        filtersApplied: false,
      });
    });

    it.each<[string, Script, RegistryError['kind']]>([
      [
        'answers something that is not an image index',
        () => ({ status: 200, body: '{"manifests":3}' }),
        'refused',
      ],
      [
        'paginates to another origin',
        () => ({ status: 200, headers: { link: '<http://127.0.0.2:1/x>; rel="next"' }, body: index([]) }),
        'refused',
      ],
      [
        'paginates for ever',
        () => ({ status: 200, headers: { link: '<?again=1>; rel="next"' }, body: index([]) }),
        'refused',
      ],
      ['answers 500', () => ({ status: 500 }), 'unavailable'],
      ['answers 429', () => ({ status: 429 }), 'unavailable'],
      ['answers 403', () => ({ status: 403 }), 'refused'],
    ])('throws when the registry %s (%s)', async (_label, script, kind) => {
      const { client: c } = await client(script);
      expect(await failure(c.referrers(SUBJECT, COSIGN, 4096, signal()))).toMatchObject({ kind });
    });
  });

  describe('when the registry does not answer before the deadline', () => {
    it('throws unavailable', async () => {
      const { client: c } = await client(() => 'hang');
      const error = await failure(c.referrers(SUBJECT, COSIGN, 4096, AbortSignal.timeout(200)));
      expect(error).toMatchObject({ kind: 'unavailable', message: expect.stringContaining('timeoutMs') });
    });
  });

  describe('when nothing listens on the registry port', () => {
    it('throws unavailable', async () => {
      const { client: c, server } = await client(() => ({ status: 200 }));
      await server.close();
      servers.splice(0);
      expect(await failure(c.manifestByTag('1.0.0', ['*/*'], 1024, signal()))).toMatchObject({
        kind: 'unavailable',
      });
    });
  });
});
