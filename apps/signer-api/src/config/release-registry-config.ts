import { upstreamUrlProblem } from '@signer/core';
import { repositoryPath } from '@signer/infra-oci';
import type { SignerConfig } from './config-schema';

/**
 * `registryUrl` must be a bare origin (the contract's base URL is scheme, host and port only) that
 * every upstream rule allows: https, or plain http on loopback only.
 */
function registryUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an absolute https URL';
  }
  if (url.username || url.password)
    return 'expected no credentials in the URL (use releaseIntegrity.registryAuth)';
  const upstream = upstreamUrlProblem(value);
  if (upstream) return upstream;
  if (url.pathname !== '/' || url.search || url.hash) return 'expected scheme, host and port only';
  return undefined;
}

/** Cross-key rules of the release registry settings (docs/release-integrity.md). */
export function releaseRegistryProblems(config: SignerConfig): string[] {
  const { registryUrl, registryAuth, scannerRepository } = config.releaseIntegrity;
  const problems: string[] = [];
  try {
    repositoryPath(scannerRepository);
  } catch (error) {
    problems.push((error as Error).message);
  }
  const urlProblem = registryUrl === undefined ? undefined : registryUrlProblem(registryUrl);
  if (urlProblem) problems.push(`releaseIntegrity.registryUrl: ${urlProblem}`);
  const hosts = Object.keys(registryAuth ?? {});
  if (hosts.length > 0 && (registryUrl === undefined || urlProblem)) {
    problems.push('releaseIntegrity.registryAuth: only used with a valid registryUrl');
  } else if (registryUrl !== undefined && !urlProblem) {
    // Exact host match means a key that is not the URL's host is never used: say so at boot.
    const host = new URL(registryUrl).host;
    for (const other of hosts.filter((h) => h !== host)) {
      problems.push(
        `releaseIntegrity.registryAuth.${other}: matches no registry (registryUrl host is ${host})`,
      );
    }
  }
  return problems;
}
