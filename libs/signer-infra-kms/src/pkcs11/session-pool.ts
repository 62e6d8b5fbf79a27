import { isSessionLost, pkcs11ErrorName, SessionWaitTimeoutError } from './pkcs11-errors';
import type { Pkcs11Module } from './pkcs11-module';

/** Sessions one key keeps open when `signing.keys.<id>.poolSize` is not set. */
export const DEFAULT_PKCS11_POOL_SIZE = 4;

// Callers waiting for a session, per session: past this a signature is refused at once rather
// than queued behind work that cannot finish before its deadline anyway.
const WAITERS_PER_SESSION = 64;

// Session states of a logged-in user (PKCS#11 2.40 §5.6.1); pkcs11js 2.1.7 exports no CKS_*.
const USER_STATES = new Set([1 /* CKS_RO_USER_FUNCTIONS */, 3 /* CKS_RW_USER_FUNCTIONS */]);

export interface SessionPoolOptions<C> {
  module: Pkcs11Module;
  slot: Buffer;
  /** At most this many sessions are open at once. */
  size: number;
  /** The user PIN, read when a login is needed (a PIN file rotated in place is picked up). */
  readPin(): Promise<string>;
  /** What a fresh, logged-in session needs before first use (the key's object handle). */
  prepare(session: Buffer): C;
}

export interface PooledSession<C> {
  readonly handle: Buffer;
  readonly context: C;
}

interface Waiter<C> {
  resolve(session: PooledSession<C>): void;
  reject(error: unknown): void;
}

/**
 * A bounded set of logged-in sessions on one token. A PKCS#11 session runs one operation at a time,
 * so each signature borrows one; opening and logging in costs a round trip to the device, so they
 * are reused. A session that fails with a lost-session error (closed, logged out, device error) is
 * closed and forgotten; the next borrower gets a fresh one.
 */
export class SessionPool<C> {
  private readonly idle: PooledSession<C>[] = [];
  private readonly waiters: Waiter<C>[] = [];
  /** Sessions open or being opened, borrowed or idle: never above `size`. */
  private count = 0;
  private closed = false;
  private drained: (() => void) | undefined;

  constructor(private readonly options: SessionPoolOptions<C>) {}

  /**
   * Runs `work` on a borrowed session. Waiting plus working is bounded by `timeoutMs`: past it the
   * caller gets {@link SessionWaitTimeoutError}. A call still running in the module when time is up
   * keeps its session until it returns; that session is then closed, its state being unknown.
   */
  async use<T>(timeoutMs: number, work: (session: PooledSession<C>) => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          timedOut = true;
          reject(new SessionWaitTimeoutError(timeoutMs));
        },
        Math.max(1, timeoutMs),
      );
    });
    expired.catch(() => undefined);
    const acquiring = this.acquire();
    try {
      let session: PooledSession<C>;
      try {
        session = await Promise.race([acquiring, expired]);
      } catch (error) {
        // A session handed over after the wait gave up goes straight back.
        acquiring.then(
          (late) => this.release(late),
          () => undefined,
        );
        throw error;
      }
      const running = work(session);
      running.then(
        () => (timedOut ? this.discard(session) : this.release(session)),
        (error: unknown) =>
          timedOut || isSessionLost(error) ? this.discard(session) : this.release(session),
      );
      return await Promise.race([running, expired]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes idle sessions now and borrowed ones when they come back; the last one releases the module. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(new Error('PKCS#11 session pool closed'));
    for (const session of this.idle.splice(0)) this.discard(session);
    if (this.count > 0) await new Promise<void>((resolve) => (this.drained = resolve));
    else if (!this.released) {
      this.released = true;
      this.options.module.release();
    }
  }

  private released = false;

  private acquire(): Promise<PooledSession<C>> {
    if (this.closed) return Promise.reject(new Error('PKCS#11 session pool closed'));
    const session = this.idle.pop();
    if (session) return Promise.resolve(session);
    if (this.count < this.options.size) {
      this.count++;
      return this.openCounted();
    }
    if (this.waiters.length >= WAITERS_PER_SESSION * this.options.size) {
      return Promise.reject(new SessionWaitTimeoutError(0));
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Opens a session whose slot `count` already holds; gives the slot back if that fails. */
  private async openCounted(): Promise<PooledSession<C>> {
    try {
      return await this.open();
    } catch (error) {
      this.count--;
      this.afterSlotFreed();
      throw error;
    }
  }

  private async open(): Promise<PooledSession<C>> {
    const { api, lib } = this.options.module;
    const handle = api.C_OpenSession(this.options.slot, lib.CKF_SERIAL_SESSION);
    try {
      // Login state belongs to the application, not the session: only the first session logs in,
      // and the PIN is read only then.
      if (!USER_STATES.has(api.C_GetSessionInfo(handle).state)) {
        try {
          api.C_Login(handle, lib.CKU_USER, await this.options.readPin());
        } catch (error) {
          if (pkcs11ErrorName(error) !== 'CKR_USER_ALREADY_LOGGED_IN') throw error;
        }
      }
      return { handle, context: this.options.prepare(handle) };
    } catch (error) {
      try {
        api.C_CloseSession(handle);
      } catch {
        // The original failure is the one worth reporting.
      }
      throw error;
    }
  }

  private release(session: PooledSession<C>): void {
    if (this.closed) return this.discard(session);
    const waiter = this.waiters.shift();
    if (waiter) waiter.resolve(session);
    else this.idle.push(session);
  }

  private discard(session: PooledSession<C>): void {
    try {
      this.options.module.api.C_CloseSession(session.handle);
    } catch {
      // Already gone (closed under us, device removed): forgetting it is all that is left.
    }
    this.count--;
    this.afterSlotFreed();
  }

  private afterSlotFreed(): void {
    if (this.closed) {
      if (this.count === 0 && !this.released) {
        this.released = true;
        this.options.module.release();
        this.drained?.();
      }
      return;
    }
    const waiter = this.waiters.shift();
    if (!waiter) return;
    this.count++;
    this.openCounted().then(waiter.resolve, waiter.reject);
  }
}
