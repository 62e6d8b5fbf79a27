import type { PKCS11 } from 'pkcs11js';
import { KeyConfigError } from '../errors';
import { pkcs11ErrorName } from './pkcs11-errors';

type Pkcs11js = typeof import('pkcs11js');

/** A loaded, initialised PKCS#11 module shared by every key that names the same `module-path`. */
export interface Pkcs11Module {
  readonly path: string;
  readonly api: PKCS11;
  readonly lib: Pkcs11js;
  /** Drops this user's reference; the last one finalises the module and unloads it. */
  release(): void;
}

interface Loaded {
  api: PKCS11;
  lib: Pkcs11js;
  users: number;
  /** False when another loader in this process initialised the library first: not ours to finalise. */
  ownsInitialize: boolean;
}

// Cryptoki allows one C_Initialize per library per process (a second answers
// CKR_CRYPTOKI_ALREADY_INITIALIZED), so keys sharing a module share one initialisation.
const loaded = new Map<string, Loaded>();

/**
 * Loads and initialises the module at `path` (once per process), with OS locking: signatures run
 * on libuv worker threads. The native binding is imported here, lazily, so a deployment without
 * pkcs11 keys never needs it built.
 */
export async function acquirePkcs11Module(path: string): Promise<Pkcs11Module> {
  let entry = loaded.get(path);
  if (!entry) {
    let lib: Pkcs11js;
    try {
      // Node's import() of this CommonJS package exposes only what its export lexer can see
      // (`PKCS11`, not the spread-in CK* constants): the whole module is `default`.
      const imported = (await import('pkcs11js')) as Pkcs11js & { default?: Pkcs11js };
      lib = imported.default ?? imported;
    } catch (cause) {
      throw new KeyConfigError('pkcs11: the native binding pkcs11js is not installed or did not build', {
        cause,
      });
    }
    // Re-checked: another key may have loaded the module while the import was pending.
    entry = loaded.get(path) ?? initialise(lib, path);
    loaded.set(path, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    path,
    api: held.api,
    lib: held.lib,
    release: () => {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      loaded.delete(path);
      try {
        if (held.ownsInitialize) held.api.C_Finalize();
      } finally {
        held.api.close();
      }
    },
  };
}

function initialise(lib: Pkcs11js, path: string): Loaded {
  const api = new lib.PKCS11();
  try {
    api.load(path);
  } catch (cause) {
    throw new KeyConfigError(`pkcs11: cannot load the module ${path}`, { cause });
  }
  try {
    api.C_Initialize({ flags: lib.CKF_OS_LOCKING_OK });
    return { api, lib, users: 0, ownsInitialize: true };
  } catch (cause) {
    if (pkcs11ErrorName(cause) === 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
      return { api, lib, users: 0, ownsInitialize: false };
    }
    api.close();
    throw new KeyConfigError(`pkcs11: C_Initialize of ${path} failed (${pkcs11ErrorName(cause)})`, { cause });
  }
}
