import { SignerError } from '@signer/core';

/** A repository path per the distribution spec: lower-case components separated by `/`. */
const PATH = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const MAX_PATH_LENGTH = 255;

/** A first component with a dot, a port or `localhost` names a registry host (docker reference grammar). */
function isHost(component: string): boolean {
  return component.includes('.') || component.includes(':') || component === 'localhost';
}

/**
 * The repository name inside the registry: `scannerRepository` without its host part (contract §5),
 * e.g. `registry.example:5000/stella-ops/scanner` → `stella-ops/scanner`. A tag, digest or invalid
 * path is a configuration mistake, refused at start-up.
 */
export function repositoryPath(scannerRepository: string): string {
  const components = scannerRepository.split('/');
  const path =
    components.length > 1 && isHost(components[0]) ? components.slice(1).join('/') : scannerRepository;
  if (path.length > MAX_PATH_LENGTH || !PATH.test(path)) {
    throw new SignerError(
      'internal_error',
      `releaseIntegrity.scannerRepository: expected <host>/<repository path> without tag or digest, got ${scannerRepository}`,
    );
  }
  return path;
}
