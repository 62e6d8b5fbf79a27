import { createHash } from 'node:crypto';
import { isRecord, parseIndexManifests, parseJson, SHA256_DIGEST, type Descriptor } from '../oci/descriptor';
import { MANIFEST_MEDIA_TYPES, OCI_IMAGE_INDEX } from '../oci/media-types';
import { discard, exchange, readBody } from './http-exchange';
import { RegistryAuth } from './registry-auth';
import type { RegistryCredential } from './registry-credentials';
import { RegistryError, statusError } from './registry-error';

/** Referrers listings are paginated by `Link: <…>; rel="next"`; more pages than this is abuse. */
export const MAX_REFERRERS_PAGES = 8;

export interface RegistryClientOptions {
  /** Base URL of the registry: scheme, host and port (`releaseIntegrity.registryUrl`). */
  registryUrl: string;
  /** Repository path inside the registry (`scannerRepository` without its host part). */
  repository: string;
  credential?: RegistryCredential;
  maxRedirects?: number;
  /** Milliseconds since the epoch, for token expiry; pinned by tests. */
  now?: () => number;
}

export interface ReferrersListing {
  descriptors: Descriptor[];
  /** Whether the registry said it applied the `artifactType` filter (`OCI-Filters-Applied`). */
  filtersApplied: boolean;
}

const NEXT_LINK = /<([^>]*)>\s*;\s*rel="?next"?/i;

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * A read-only client for one repository of an OCI distribution v1.1 registry. Everything fetched
 * by digest is hashed and compared before anyone reads it; every body is read under a size limit.
 *
 * @see https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md
 */
export class RegistryClient {
  private readonly base: URL;
  private readonly auth: RegistryAuth;
  private readonly scope: string;

  constructor(private readonly options: RegistryClientOptions) {
    this.base = new URL(options.registryUrl);
    this.auth = new RegistryAuth({
      registryUrl: this.base,
      credential: options.credential,
      now: options.now,
    });
    this.scope = `repository:${options.repository}:pull`;
  }

  /** The manifest stored under `digest`, verified to hash to it. */
  async manifestByDigest(digest: string, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
    if (!SHA256_DIGEST.test(digest))
      throw new RegistryError('integrity', `expected a sha256 digest, got ${digest}`);
    const bytes = await this.fetchBody(
      `manifests/${digest}`,
      MANIFEST_MEDIA_TYPES.join(', '),
      maxBytes,
      signal,
    );
    if (sha256(bytes) !== digest) {
      throw new RegistryError('integrity', `manifest ${digest}: expected bytes with that digest, got others`);
    }
    return bytes;
  }

  /** The manifest a tag points at, or `undefined` when the tag does not exist. */
  async manifestByTag(
    tag: string,
    accept: readonly string[],
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<Buffer | undefined> {
    try {
      return await this.fetchBody(
        `manifests/${encodeURIComponent(tag)}`,
        accept.join(', '),
        maxBytes,
        signal,
      );
    } catch (error) {
      if (error instanceof RegistryError && error.kind === 'not_found') return undefined;
      throw error;
    }
  }

  /** The blob a descriptor names, verified against its digest and size. */
  async blob(descriptor: Descriptor, maxBytes: number, signal: AbortSignal): Promise<Buffer> {
    if (!SHA256_DIGEST.test(descriptor.digest) || descriptor.size > maxBytes) {
      throw new RegistryError('too_large', `blob ${descriptor.digest}: expected at most ${maxBytes} bytes`);
    }
    // One byte more than declared is enough to know the registry sent something else.
    const bytes = await this.fetchBody(`blobs/${descriptor.digest}`, '*/*', descriptor.size + 1, signal);
    if (bytes.length !== descriptor.size || sha256(bytes) !== descriptor.digest) {
      throw new RegistryError(
        'integrity',
        `blob ${descriptor.digest}: expected bytes with that digest, got others`,
      );
    }
    return bytes;
  }

  /**
   * `GET /v2/<name>/referrers/<digest>?artifactType=…`, every page. `undefined` when the registry
   * has no Referrers API (404, which the spec forbids a supporting registry to answer). Entries of
   * other artifact types are dropped here whatever `OCI-Filters-Applied` says.
   */
  async referrers(
    digest: string,
    artifactType: string,
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<ReferrersListing | undefined> {
    let url: URL | undefined = this.url(`referrers/${digest}`);
    url.searchParams.set('artifactType', artifactType);
    const descriptors: Descriptor[] = [];
    let filtersApplied = true;
    for (let page = 0; url; page += 1) {
      if (page >= MAX_REFERRERS_PAGES) {
        throw new RegistryError(
          'refused',
          `referrers ${digest}: expected at most ${MAX_REFERRERS_PAGES} pages`,
        );
      }
      const response = await this.get(url, OCI_IMAGE_INDEX, signal);
      if (response.status === 404 && page === 0) {
        await discard(response);
        return undefined;
      }
      if (response.status !== 200) {
        await discard(response);
        throw statusError(response.status, `referrers ${digest}`);
      }
      const applied = (response.headers.get('oci-filters-applied') ?? '').split(',').map((s) => s.trim());
      filtersApplied &&= applied.includes('artifactType');
      const next = this.nextPage(response.headers.get('link'), url);
      const value = parseJson(await readBody(response, maxBytes, `referrers ${digest}`, signal));
      const listed = parseIndexManifests(value);
      if (
        !listed ||
        (isRecord(value) && value.mediaType !== undefined && value.mediaType !== OCI_IMAGE_INDEX)
      ) {
        throw new RegistryError('refused', `referrers ${digest}: expected an OCI image index`);
      }
      descriptors.push(...listed.filter((d) => d.artifactType === artifactType));
      url = next;
    }
    return { descriptors, filtersApplied };
  }

  private nextPage(link: string | null, current: URL): URL | undefined {
    const target = link ? NEXT_LINK.exec(link)?.[1] : undefined;
    if (target === undefined) return undefined;
    const next = new URL(target, current);
    if (next.origin !== this.base.origin) {
      throw new RegistryError('refused', `referrers: expected the next page on ${this.base.origin}`);
    }
    return next;
  }

  private url(path: string): URL {
    return new URL(`/v2/${this.options.repository}/${path}`, this.base);
  }

  private async fetchBody(
    path: string,
    accept: string,
    maxBytes: number,
    signal: AbortSignal,
  ): Promise<Buffer> {
    const response = await this.get(this.url(path), accept, signal);
    if (response.status !== 200) {
      await discard(response);
      throw statusError(response.status, `GET ${path}`);
    }
    return readBody(response, maxBytes, `GET ${path}`, signal);
  }

  /** A GET with the current authorization; on 401 the challenge is answered and the GET retried once. */
  private async get(url: URL, accept: string, signal: AbortSignal): Promise<Response> {
    const headers = { accept, 'user-agent': 'stella-ops-signer' };
    let authorization = this.auth.preemptive(this.scope);
    const first = await exchange({
      url,
      headers,
      authorization,
      signal,
      maxRedirects: this.options.maxRedirects,
    });
    if (first.response.status !== 401) return first.response;
    const challenge = first.response.headers.get('www-authenticate');
    await discard(first.response);
    authorization = await this.auth.answer(challenge, this.scope, signal);
    const retry = await exchange({
      url,
      headers,
      authorization,
      signal,
      maxRedirects: this.options.maxRedirects,
    });
    return retry.response;
  }
}
