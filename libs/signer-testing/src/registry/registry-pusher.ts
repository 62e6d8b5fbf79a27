import { OCI_IMAGE_INDEX, OCI_IMAGE_MANIFEST, sha256Digest, type OciDescriptor } from '@signer/dev';
import type { RegistryRelease } from './registry-release';

export interface RegistryPusherOptions {
  baseUrl: string;
  repository: string;
  /** Basic credentials for the token service, when the registry wants bearer tokens. */
  credentials?: { username: string; password: string };
}

/**
 * Pushes content to a registry over plain HTTP the way the distribution spec says (`POST` an upload,
 * `PUT` it with `?digest=`, `PUT` manifests), answering a bearer challenge with a push token.
 */
export class RegistryPusher {
  private authorization?: string;

  constructor(private readonly options: RegistryPusherOptions) {}

  async pushBlob(bytes: Buffer): Promise<void> {
    const start = await this.send('POST', `blobs/uploads/`);
    await expectStatus(start, 202, 'start upload');
    const location = new URL(start.headers.get('location') ?? '', this.options.baseUrl);
    location.searchParams.set('digest', sha256Digest(bytes));
    const done = await this.send('PUT', location, bytes, 'application/octet-stream');
    await expectStatus(done, 201, 'finish upload');
  }

  async pushManifest(reference: string, bytes: Buffer, mediaType: string): Promise<void> {
    const response = await this.send('PUT', `manifests/${reference}`, bytes, mediaType);
    await expectStatus(response, 201, `put manifest ${reference}`);
  }

  /**
   * Pushes a release: blobs, the image (by digest and version tag), the signature manifests by
   * digest, the `sha256-<hex>` tag-schema index when `tagSchema` (what cosign does on a registry
   * without the Referrers API), and the legacy `.sig` manifest.
   */
  async pushRelease(release: RegistryRelease, options: { tagSchema: boolean }): Promise<void> {
    const manifests = new Set([release.image.digest, ...release.referrers.map((d) => d.digest)]);
    if (release.legacy) manifests.add(release.legacy.digest);
    for (const [digest, blob] of release.content.blobs)
      if (!manifests.has(digest)) await this.pushBlob(blob.bytes);
    const bytesOf = (d: OciDescriptor) => release.content.blobs.get(d.digest)?.bytes ?? Buffer.alloc(0);
    await this.pushManifest(release.image.digest, bytesOf(release.image), OCI_IMAGE_MANIFEST);
    await this.pushManifest(release.version, bytesOf(release.image), OCI_IMAGE_MANIFEST);
    for (const referrer of release.referrers)
      await this.pushManifest(referrer.digest, bytesOf(referrer), OCI_IMAGE_MANIFEST);
    const tag = release.scannerDigest.replace(':', '-');
    if (options.tagSchema && release.referrers.length > 0) {
      const index = Buffer.from(
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_IMAGE_INDEX, manifests: release.referrers }),
      );
      await this.pushManifest(tag, index, OCI_IMAGE_INDEX);
    }
    if (release.legacy) await this.pushManifest(`${tag}.sig`, bytesOf(release.legacy), OCI_IMAGE_MANIFEST);
  }

  private async send(
    method: string,
    path: string | URL,
    body?: Buffer,
    contentType?: string,
  ): Promise<Response> {
    const url =
      typeof path === 'string'
        ? new URL(`/v2/${this.options.repository}/${path}`, this.options.baseUrl)
        : path;
    const attempt = () =>
      fetch(url, {
        method,
        body,
        headers: {
          ...(contentType ? { 'content-type': contentType } : {}),
          ...(this.authorization ? { authorization: this.authorization } : {}),
        },
      });
    let response = await attempt();
    if (response.status === 401 && this.options.credentials) {
      await response.body?.cancel();
      this.authorization = await this.token(response.headers.get('www-authenticate') ?? '');
      response = await attempt();
    }
    return response;
  }

  private async token(challenge: string): Promise<string> {
    const param = (name: string) => new RegExp(`${name}="([^"]*)"`).exec(challenge)?.[1] ?? '';
    const url = new URL(param('realm'));
    url.searchParams.set('service', param('service'));
    url.searchParams.set('scope', `repository:${this.options.repository}:pull,push`);
    const { username, password } = this.options.credentials ?? { username: '', password: '' };
    const response = await fetch(url, {
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` },
    });
    if (response.status !== 200) await expectStatus(response, 200, 'push token');
    return `Bearer ${((await response.json()) as { token: string }).token}`;
  }
}

async function expectStatus(response: Response, status: number, what: string): Promise<void> {
  if (response.status === status) {
    await response.body?.cancel();
    return;
  }
  throw new Error(`${what}: expected ${status}, got ${response.status} ${await response.text()}`);
}
