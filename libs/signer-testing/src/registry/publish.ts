import type { DockerRegistry } from './docker-registry';
import { RegistryPusher } from './registry-pusher';
import type { RegistryRelease } from './registry-release';

export interface PublishOptions {
  /** Basic credentials for the token service of a registry with token auth. */
  credentials?: { username: string; password: string };
  /** Write the `sha256-<hex>` tag-schema index (default true: the registry has no Referrers API). */
  tagSchema?: boolean;
}

/**
 * Pushes a release to the real registry, then applies its tampering behind the registry's back
 * (the registry refuses bytes that miss their digest on push, but serves whatever its storage holds).
 */
export async function publishToDockerRegistry(
  registry: DockerRegistry,
  release: RegistryRelease,
  options: PublishOptions = {},
): Promise<void> {
  const pusher = new RegistryPusher({
    baseUrl: registry.baseUrl,
    repository: repositoryOf(release.repository),
    credentials: options.credentials,
  });
  await pusher.pushRelease(release, { tagSchema: options.tagSchema ?? true });
  for (const [digest, bytes] of release.content.tampered) registry.tamper(digest, bytes);
}

/** `host/path` → `path`, the way the Signer maps `scannerRepository` (contract §5). */
export function repositoryOf(repository: string): string {
  const [first, ...rest] = repository.split('/');
  return rest.length > 0 && /[.:]|^localhost$/.test(first) ? rest.join('/') : repository;
}
