import { accessSync, constants, statSync } from 'node:fs';
import type { SignerConfig } from './config-schema';

const REASONS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  ENOTDIR: 'a folder on the path is a file',
  ELOOP: 'too many symbolic links',
};

/** Why `path` cannot be read as a file, in words (an errno code, never the file's content); undefined when it can. */
export function unreadableFile(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'not a regular file';
    accessSync(path, constants.R_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return REASONS[code] ?? code;
  }
}

/** The files the Signer reads once at start-up, by the key that names them (paths already resolved). */
function startupFiles(config: SignerConfig): Array<{ path: string[]; file: string }> {
  const files: Array<{ path: string[]; file: string }> = [];
  const add = (path: string[], file: string | undefined) => {
    if (file !== undefined) files.push({ path, file });
  };
  add(['authority', 'jwksFile'], config.authority.jwksFile);
  add(['licensing', 'offlineJwksFile'], config.licensing.offlineJwksFile);
  config.releaseIntegrity.trustedKeysFiles.forEach((file, index) =>
    add(['releaseIntegrity', 'trustedKeysFiles', String(index)], file),
  );
  const tls = config.server.tls;
  add(['server', 'tls', 'certFile'], tls?.certFile);
  add(['server', 'tls', 'keyFile'], tls?.keyFile);
  add(['server', 'tls', 'clientCaFile'], tls?.clientCaFile);
  for (const [keyId, key] of Object.entries(config.signing.keys)) {
    if (key.ref.startsWith('file://'))
      add(['signing', 'keys', keyId, 'ref'], key.ref.slice('file://'.length));
  }
  return files;
}

/**
 * A missing or unreadable start-up file is a configuration mistake (exit 78 naming the key), not
 * a crash in whichever adapter reads it first. Files read later (the keyless identity token, the
 * OCI layout, the audit file) are checked by readiness instead.
 */
export function configuredFileProblems(config: SignerConfig): Array<{ path: string[]; problem: string }> {
  return startupFiles(config).flatMap(({ path, file }) => {
    const reason = unreadableFile(file);
    return reason ? [{ path, problem: `cannot read ${file} (${reason})` }] : [];
  });
}
