import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { runInThisContext } from 'node:vm';

/** Where Debian's `softhsm2` package installs the module (tools/services.mjs installs it on CI). */
export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** The key pairs every test token holds: one per algorithm the PKCS#11 backend signs with. */
export const SOFTHSM_KEYS = {
  p256: { id: '01', label: 'ec-p256', keyType: 'EC:prime256v1' },
  p384: { id: '02', label: 'ec-p384', keyType: 'EC:secp384r1' },
  rsa3072: { id: '03', label: 'rsa-3072', keyType: 'rsa:3072' },
} as const;

export type SoftHsmKeyName = keyof typeof SOFTHSM_KEYS;

const run = promisify(execFile);

/**
 * The environments SOFTHSM2_CONF must be set in: this `process.env`, and the real one. Jest hands
 * each test file a copy of `process.env`, while SoftHSM calls getenv() in C_Initialize and so
 * reads the process's real environment — the one of the main context's `process`.
 */
function environments(): NodeJS.ProcessEnv[] {
  const real = (runInThisContext('process') as NodeJS.Process).env;
  return real === process.env ? [real] : [process.env, real];
}

/**
 * A SoftHSM2 token in its own temporary directory (its own `softhsm2.conf`), initialised with a
 * random user PIN written to an owner-only file, and holding one key pair per {@link SOFTHSM_KEYS}
 * (generated inside the token with `pkcs11-tool`, so no private key ever exists outside it).
 *
 * SoftHSM reads `SOFTHSM2_CONF` at C_Initialize: `create()` sets it for this process (for a Signer
 * running in-process) and {@link env} carries it for a child process — SignerProcess passes only
 * the variables it is given. One token per process at a time.
 */
export class SoftHsmToken {
  private constructor(
    readonly dir: string,
    readonly label: string,
    /** The user PIN's file (mode 0600); the PIN itself is never exposed. */
    readonly pinFile: string,
    private readonly restoreEnv: () => void,
  ) {}

  readonly modulePath = SOFTHSM_MODULE;

  get confPath(): string {
    return join(this.dir, 'softhsm2.conf');
  }

  /** What a child process needs to see this token. */
  get env(): { SOFTHSM2_CONF: string } {
    return { SOFTHSM2_CONF: this.confPath };
  }

  /** `parentDir`: where the token's directory goes (default the OS temp dir). */
  static async create(options: { label?: string; parentDir?: string } = {}): Promise<SoftHsmToken> {
    const dir = mkdtempSync(join(options.parentDir ?? tmpdir(), 'softhsm-'));
    const label = options.label ?? 'stella-signer-test';
    mkdirSync(join(dir, 'tokens'), { mode: 0o700 });
    writeFileSync(
      join(dir, 'softhsm2.conf'),
      `directories.tokendir = ${join(dir, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`,
    );
    const pin = randomBytes(8).toString('hex');
    const pinFile = join(dir, 'user.pin');
    writeFileSync(pinFile, `${pin}\n`, { mode: 0o600 });
    const envs = environments();
    const previous = envs.map((env) => env['SOFTHSM2_CONF']);
    for (const env of envs) env['SOFTHSM2_CONF'] = join(dir, 'softhsm2.conf');
    const token = new SoftHsmToken(dir, label, pinFile, () =>
      envs.forEach((env, i) => {
        if (previous[i] === undefined) delete env['SOFTHSM2_CONF'];
        else env['SOFTHSM2_CONF'] = previous[i];
      }),
    );
    try {
      const env = { ...process.env, ...token.env };
      const soPin = randomBytes(8).toString('hex');
      await run(
        'softhsm2-util',
        ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin],
        {
          env,
        },
      );
      for (const key of Object.values(SOFTHSM_KEYS)) {
        await run(
          'pkcs11-tool',
          [
            ...['--module', SOFTHSM_MODULE, '--token-label', label, '--login', '--pin', pin],
            ...['--keypairgen', '--key-type', key.keyType, '--id', key.id, '--label', key.label],
          ],
          { env },
        );
      }
    } catch (error) {
      token.cleanup();
      throw error;
    }
    return token;
  }

  /**
   * The `pkcs11:` reference of a key pair (by token label and CKA_ID), with this token's PIN file
   * and module unless `query` replaces them.
   */
  uri(key: SoftHsmKeyName, query: { pinFile?: string; modulePath?: string } = {}): string {
    const id = SOFTHSM_KEYS[key].id.replace(/(..)/g, '%$1');
    const pinFile = query.pinFile ?? this.pinFile;
    const modulePath = query.modulePath ?? this.modulePath;
    return `pkcs11:token=${encodeURIComponent(this.label)};id=${id};type=private?pin-source=file:${pinFile}&module-path=${modulePath}`;
  }

  /** Writes another PIN file (owner-only) in the token's directory, e.g. a wrong PIN. */
  writePinFile(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  /** Removes the token directory and restores this process's SOFTHSM2_CONF. */
  cleanup(): void {
    this.restoreEnv();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
