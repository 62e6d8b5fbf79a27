import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OCI_IMAGE_INDEX, type OciDescriptor } from '@signer/dev';
import { MemoryOciContent } from './oci-content';
import type { RegistryRelease } from './registry-release';

export interface ReferrersRegistryOptions {
  /** `false` answers the Referrers API with 404 and serves the tag-schema index instead. */
  referrersApi?: boolean;
  /** Whether `artifactType` filters are applied (and `OCI-Filters-Applied` sent). Default true. */
  applyFilters?: boolean;
  /** Referrers per page; more are paginated with `Link: <…>; rel="next"`. */
  pageSize?: number;
  /** Blobs are answered with a 307 to a second loopback origin, as registries do with object storage. */
  blobRedirect?: boolean;
  auth?: { username: string; password: string } | { token: string };
}

/** `error-500` answers 500, `hang` never answers; `faultPath` narrows which requests it hits. */
export type RegistryFault = 'none' | 'error-500' | 'hang';

export interface RecordedRegistryRequest {
  origin: 'registry' | 'blob-store';
  path: string;
  authorization?: string;
}

interface StoredManifest {
  bytes: Buffer;
  mediaType: string;
  subject?: string;
  descriptor: OciDescriptor;
}

const MAX_BODY = 16 * 1024 * 1024;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * A loopback registry that implements the read side of the OCI distribution spec v1.1 including the
 * Referrers API (filtering, pagination), over content built by `buildRegistryRelease`. Unlike the
 * real registry it can be told to fail, hang, lie about bytes, or redirect blobs elsewhere.
 *
 * @see https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#listing-referrers
 */
export class ReferrersRegistry {
  fault: RegistryFault = 'none';
  faultPath = /./;
  readonly requests: RecordedRegistryRequest[] = [];
  private readonly content = new MemoryOciContent();
  private readonly manifests = new Map<string, StoredManifest>();
  private readonly tags = new Map<string, string>();

  private constructor(
    private readonly servers: Server[],
    readonly baseUrl: string,
    private readonly blobStoreUrl: string,
    private readonly options: ReferrersRegistryOptions,
  ) {}

  static async start(options: ReferrersRegistryOptions = {}): Promise<ReferrersRegistry> {
    // The handlers need the instance, which needs the ports the servers listen on.
    const holder: { registry?: ReferrersRegistry } = {};
    const main = createServer((req, res) => holder.registry?.handle(req, res, 'registry'));
    const blobs = createServer((req, res) => holder.registry?.handle(req, res, 'blob-store'));
    const [baseUrl, blobStoreUrl] = [await listen(main), await listen(blobs)];
    holder.registry = new ReferrersRegistry([main, blobs], baseUrl, blobStoreUrl, options);
    return holder.registry;
  }

  /** Serves a release: its blobs (tampered ones lying), image tag, referrers and legacy `.sig` tag. */
  add(release: RegistryRelease): void {
    for (const [digest, blob] of release.content.blobs) this.content.blobs.set(digest, blob);
    for (const [digest, bytes] of release.content.tampered) this.content.tampered.set(digest, bytes);
    const store = (d: OciDescriptor) => {
      const bytes = release.content.blobs.get(d.digest)?.bytes ?? Buffer.alloc(0);
      const parsed = JSON.parse(bytes.toString('utf8')) as { subject?: { digest?: string } };
      this.manifests.set(d.digest, {
        bytes,
        mediaType: d.mediaType,
        subject: parsed.subject?.digest,
        descriptor: d,
      });
    };
    [release.image, ...release.referrers].forEach(store);
    this.tags.set(release.version, release.image.digest);
    if (release.legacy) {
      store(release.legacy);
      this.tags.set(`${release.scannerDigest.replace(':', '-')}.sig`, release.legacy.digest);
    }
  }

  async close(): Promise<void> {
    for (const server of this.servers) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private handle(req: IncomingMessage, res: ServerResponse, origin: RecordedRegistryRequest['origin']): void {
    const url = new URL(req.url ?? '/', origin === 'registry' ? this.baseUrl : this.blobStoreUrl);
    this.requests.push({
      origin,
      path: `${url.pathname}${url.search}`,
      authorization: req.headers.authorization,
    });
    if (this.fault !== 'none' && this.faultPath.test(url.pathname)) {
      if (this.fault === 'hang') return;
      json(res, 500, { errors: [{ code: 'UNKNOWN', message: 'injected failure' }] });
      return;
    }
    if (origin === 'blob-store') return this.serveBlob(res, url.pathname.split('/').pop() ?? '');
    if (!this.authorized(req.headers.authorization)) {
      const challenge =
        this.options.auth && 'token' in this.options.auth
          ? `Bearer realm="${this.baseUrl}/token",service="referrers-registry"`
          : 'Basic realm="referrers-registry"';
      return json(res, 401, { errors: [{ code: 'UNAUTHORIZED' }] }, { 'www-authenticate': challenge });
    }
    const match = /^\/v2\/(.+)\/(manifests|blobs|referrers)\/([^/]+)$/.exec(url.pathname);
    if (url.pathname === '/v2/') return json(res, 200, {});
    if (!match) return json(res, 404, { errors: [{ code: 'NAME_UNKNOWN' }] });
    const [, name, kind, reference] = match;
    if (kind === 'blobs') {
      if (!this.options.blobRedirect) return this.serveBlob(res, reference);
      res.writeHead(307, { location: `${this.blobStoreUrl}/storage/${reference}?signature=loopback` });
      return void res.end();
    }
    if (kind === 'manifests') return this.serveManifest(req, res, decodeURIComponent(reference));
    return this.serveReferrers(res, url, name, reference);
  }

  private authorized(header: string | undefined): boolean {
    const auth = this.options.auth;
    if (!auth) return true;
    if ('token' in auth) return header === `Bearer ${auth.token}`;
    return header === `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  }

  private serveBlob(res: ServerResponse, digest: string): void {
    const blob = this.content.served(digest);
    if (!blob || blob.bytes.length > MAX_BODY) return json(res, 404, { errors: [{ code: 'BLOB_UNKNOWN' }] });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': blob.bytes.length });
    res.end(blob.bytes);
  }

  private serveManifest(req: IncomingMessage, res: ServerResponse, reference: string): void {
    const accept = req.headers.accept ?? '';
    if (this.options.referrersApi === false && /^sha256-[0-9a-f]{64}$/.test(reference)) {
      const listed = this.referrersOf(reference.replace('-', ':'));
      if (listed.length === 0 || !accept.includes(OCI_IMAGE_INDEX))
        return json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
      return json(
        res,
        200,
        { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: listed },
        { 'content-type': OCI_IMAGE_INDEX },
      );
    }
    const digest = reference.startsWith('sha256:') ? reference : this.tags.get(reference);
    const stored = digest ? this.manifests.get(digest) : undefined;
    if (!stored || !digest || !(accept.includes(stored.mediaType) || accept.includes('*/*'))) {
      return json(res, 404, { errors: [{ code: 'MANIFEST_UNKNOWN' }] });
    }
    const bytes = this.content.served(digest)?.bytes ?? stored.bytes;
    res.writeHead(200, { 'content-type': stored.mediaType, 'docker-content-digest': digest });
    res.end(bytes);
  }

  private referrersOf(digest: string): OciDescriptor[] {
    return [...this.manifests.values()].filter((m) => m.subject === digest).map((m) => m.descriptor);
  }

  private serveReferrers(res: ServerResponse, url: URL, name: string, digest: string): void {
    if (this.options.referrersApi === false) return json(res, 404, { errors: [{ code: 'UNSUPPORTED' }] });
    const wanted = url.searchParams.get('artifactType');
    const filter = wanted !== null && this.options.applyFilters !== false;
    const all = this.referrersOf(digest).filter((d) => !filter || d.artifactType === wanted);
    const size = this.options.pageSize ?? 100;
    const page = Number(url.searchParams.get('page') ?? '0');
    const headers: Record<string, string> = { 'content-type': OCI_IMAGE_INDEX };
    if (filter) headers['oci-filters-applied'] = 'artifactType';
    if ((page + 1) * size < all.length) {
      const next = new URL(`/v2/${name}/referrers/${digest}`, this.baseUrl);
      if (wanted !== null) next.searchParams.set('artifactType', wanted);
      next.searchParams.set('page', String(page + 1));
      headers.link = `<${next.pathname}${next.search}>; rel="next"`;
    }
    const manifests = all.slice(page * size, (page + 1) * size);
    json(res, 200, { schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests }, headers);
  }
}
