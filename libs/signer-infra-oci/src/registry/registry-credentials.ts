/** Credentials for one registry host (`releaseIntegrity.registryAuth.<host:port>`). */
export type RegistryCredential = { username: string; password: string } | { token: string };

/**
 * The credential configured for exactly this host (`host` or `host:port` as in the URL, default port
 * omitted). No suffix or wildcard matching: a registry's credentials never reach a look-alike host.
 */
export function credentialFor(
  registryUrl: string,
  byHost: Readonly<Record<string, RegistryCredential>> | undefined,
): RegistryCredential | undefined {
  if (!byHost) return undefined;
  const host = new URL(registryUrl).host;
  return Object.prototype.hasOwnProperty.call(byHost, host) ? byHost[host] : undefined;
}

export function basicAuthorization(credential: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`, 'utf8').toString('base64')}`;
}
