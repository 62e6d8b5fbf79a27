import * as pkcs11 from 'pkcs11js';
import { SessionWaitTimeoutError } from './pkcs11-errors';
import type { Pkcs11Module } from './pkcs11-module';
import { SessionPool } from './session-pool';

/** A module that opens numbered sessions and records what happens to them. */
function recordingModule() {
  const events: string[] = [];
  let next = 0;
  let loggedIn = false;
  const module = {
    path: '/fake/module.so',
    lib: pkcs11,
    api: {
      C_OpenSession: () => Buffer.from([++next]),
      // CKS_RO_USER_FUNCTIONS (1) once logged in, CKS_RO_PUBLIC_SESSION (0) before.
      C_GetSessionInfo: () => ({ state: loggedIn ? 1 : 0 }),
      C_Login: (session: Buffer, _user: number, pin: string) => {
        loggedIn = true;
        events.push(`login ${session[0]} ${pin.length}`);
      },
      C_CloseSession: (session: Buffer) => events.push(`close ${session[0]}`),
    },
    release: () => events.push('release'),
  } as unknown as Pkcs11Module;
  return { module, events };
}

const lost = Object.assign(new Error('CKR_SESSION_HANDLE_INVALID'), { code: 0xb3 });

describe('SessionPool', () => {
  const pool = (module: Pkcs11Module, size = 1) =>
    new SessionPool({
      module,
      slot: Buffer.from([0]),
      size,
      readPin: async () => '1234',
      prepare: (s) => s[0],
    });

  describe('when sessions are borrowed one after another', () => {
    it('logs in once and reuses the same session', async () => {
      const { module, events } = recordingModule();
      const sessions = pool(module, 2);
      const first = await sessions.use(1000, async (s) => s.context);
      const second = await sessions.use(1000, async (s) => s.context);
      expect([first, second]).toEqual([1, 1]);
      expect(events).toEqual(['login 1 4']);
      await sessions.close();
      expect(events).toEqual(['login 1 4', 'close 1', 'release']);
    });
  });

  describe('when every session is busy', () => {
    it('refuses a borrower once its time is up, and serves the next one when the session returns', async () => {
      const { module } = recordingModule();
      const sessions = pool(module, 1);
      let finish: () => void = () => undefined;
      const busy = sessions.use(
        60_000,
        (s) => new Promise<number>((resolve) => (finish = () => resolve(s.context))),
      );
      await expect(sessions.use(20, async (s) => s.context)).rejects.toBeInstanceOf(SessionWaitTimeoutError);
      const waiting = sessions.use(60_000, async (s) => s.context);
      finish();
      await expect(busy).resolves.toBe(1);
      await expect(waiting).resolves.toBe(1);
      await sessions.close();
    });
  });

  describe('when a session is lost', () => {
    it('closes it and opens a fresh one for the next borrower', async () => {
      const { module, events } = recordingModule();
      const sessions = pool(module, 1);
      await expect(
        sessions.use(1000, async () => {
          throw lost;
        }),
      ).rejects.toBe(lost);
      await expect(sessions.use(1000, async (s) => s.context)).resolves.toBe(2);
      expect(events).toContain('close 1');
      await sessions.close();
    });

    it('keeps a session after an error that does not concern it', async () => {
      const { module, events } = recordingModule();
      const sessions = pool(module, 1);
      const refused = new Error('CKR_DATA_LEN_RANGE');
      await expect(sessions.use(1000, async () => Promise.reject(refused))).rejects.toBe(refused);
      await expect(sessions.use(1000, async (s) => s.context)).resolves.toBe(1);
      expect(events).not.toContain('close 1');
      await sessions.close();
    });
  });

  describe('when closed while a session is borrowed', () => {
    it('releases the module only once that session is back', async () => {
      const { module, events } = recordingModule();
      const sessions = pool(module, 1);
      let finish: () => void = () => undefined;
      const busy = sessions.use(60_000, () => new Promise<void>((resolve) => (finish = resolve)));
      await new Promise((resolve) => setImmediate(resolve));
      const closing = sessions.close();
      expect(events).not.toContain('release');
      finish();
      await busy;
      await closing;
      expect(events.slice(-2)).toEqual(['close 1', 'release']);
      await expect(sessions.use(1000, async () => 0)).rejects.toThrow(/closed/);
    });
  });
});
