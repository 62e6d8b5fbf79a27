import { X509Certificate } from 'node:crypto';
import { preAuthEncoding, type SignatureResult } from '@signer/core';
import { ManualClock } from '@signer/testing';
import { refusal, startKeylessWorld, type KeylessWorld } from './keyless-fixture';

const pae = preAuthEncoding('application/vnd.in-toto+json', Buffer.from('{}'));
const validity = (result: SignatureResult) => {
  const leaf = new X509Certificate(result.certificateChain?.[0] ?? '');
  return { notBefore: Date.parse(leaf.validFrom), notAfter: Date.parse(leaf.validTo) };
};

/** Waits (bounded) for something another part of the system does asynchronously. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  if (!condition()) throw new Error(`condition not reached: ${condition.toString()}`);
}

function fail(message: string): never {
  throw new Error(message);
}

describe('CertificateSessions rotation (Fulcio at the wire, pinned clock)', () => {
  let world: KeylessWorld;
  let clock: ManualClock;
  beforeEach(async () => {
    clock = new ManualClock(new Date());
    world = await startKeylessWorld({ clock });
  });
  afterEach(() => world.close());

  describe('when certificates expire while signatures keep coming', () => {
    // Time moves only when the test moves it, and Fulcio answers only when the test releases it, so
    // each result's `at` is the instant it was signed and the schedule is the same on every run.
    it('rotates with no failed request and no signature outside the usable window', async () => {
      // A token that outlives the test's simulated hour (platforms refresh the file in real life).
      world.writeToken(
        await world.oidc.mint({ email: 'signer@stella-ops.test', lifetimeSeconds: 24 * 3600 }),
      );
      const marginMs = 120_000;
      const { signer, sessions } = world.signer({ clock, rotationMarginSeconds: marginMs / 1000 });
      const signed: Array<{ result: SignatureResult; at: number }> = [];
      const burst = () =>
        Promise.all(
          Array.from({ length: 10 }, () =>
            signer.sign(pae).then((result) => ({ result, at: clock.now().getTime() })),
          ),
        ).then((batch) => {
          signed.push(...batch);
        });
      const current = () => sessions.peek() ?? fail('no session');
      const advanceTo = async (ms: number) => {
        while (clock.now().getTime() < ms) {
          clock.advanceMs(10_000);
          await burst();
        }
      };

      await burst(); // first certificate
      // Rotation 1: the background renewal is in flight while signing goes on; Fulcio answers in time.
      let gate = world.fulcio.hold();
      const first = current();
      await advanceTo(first.renewAtMs);
      await until(() => world.fulcio.waiting() === 1);
      await advanceTo(first.useUntilMs - 10_000);
      gate.release();
      await until(() => current() !== first);
      await burst();
      // Rotation 2: Fulcio is late; requests past the usable window wait for the renewal in flight.
      gate = world.fulcio.hold();
      const second = current();
      await advanceTo(second.renewAtMs);
      await until(() => world.fulcio.waiting() === 1);
      clock.advanceMs(second.useUntilMs - clock.now().getTime() + 5_000);
      const late = burst();
      await until(() => world.fulcio.waiting() === 1);
      gate.release();
      await late;
      await burst();

      for (const { result, at } of signed) {
        const { notBefore, notAfter } = validity(result);
        expect(at).toBeGreaterThanOrEqual(notBefore);
        expect(at).toBeLessThan(notAfter - marginMs);
      }
      const serials = new Set(signed.map(({ result }) => result.identity.certificateSerial));
      expect(serials.size).toBe(3);
      expect(world.fulcio.calls).toHaveLength(3);
      expect(world.fulcio.calls.every((call) => call.outcome === 'issued')).toBe(true);
      expect(signed.length).toBeGreaterThan(100);
    });
  });

  describe('when the background renewal fails', () => {
    it('keeps signing with the current certificate until its usable window ends, then refuses', async () => {
      const { signer } = world.signer({ clock, rotationMarginSeconds: 120, deadlineMs: 200 });
      const first = await signer.sign(pae);
      world.fulcio.failNext(10_000, 503);
      clock.advanceMs(460_000); // past renewAt (450 s), before useUntil (480 s)
      const during = await signer.sign(pae);
      expect(during.identity.certificateSerial).toBe(first.identity.certificateSerial);
      await new Promise((resolve) => setTimeout(resolve, 400)); // let the background renewal fail
      clock.advanceMs(25_000); // 485 s: inside the margin, the certificate must not be used
      const error = await refusal(signer.sign(pae));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
      expect(world.fulcio.issuedCount()).toBe(1);
    });
  });

  describe('when the identity token file changes', () => {
    it('uses the new token at the next rotation', async () => {
      const { signer } = world.signer({ clock, rotationMarginSeconds: 120 });
      expect((await signer.sign(pae)).identity.subject).toBe('signer@stella-ops.test');
      world.writeToken(
        await world.oidc.mint({
          email: 'signer-2@stella-ops.test',
          now: Math.floor(clock.now().getTime() / 1000) + 500,
        }),
      );
      clock.advanceMs(500_000);
      expect((await signer.sign(pae)).identity.subject).toBe('signer-2@stella-ops.test');
      expect(world.fulcio.issuedCount()).toBe(2);
    });
  });

  describe('when the identity token has expired', () => {
    it('refuses without calling Fulcio', async () => {
      world.writeToken(
        await world.oidc.mint({
          email: 'signer@stella-ops.test',
          now: Math.floor(clock.now().getTime() / 1000) - 3600,
        }),
      );
      const error = await refusal(world.signer({ clock }).signer.sign(pae));
      expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
      expect(error.message).not.toContain('eyJ');
      expect(world.fulcio.calls).toHaveLength(0);
    });
  });

  describe('when the certificate lifetime is shorter than the rotation margin', () => {
    it('refuses rather than sign with a certificate about to expire', async () => {
      world.fulcio.setCertificateLifetime(20);
      const error = await refusal(world.signer({ clock, rotationMarginSeconds: 30 }).signer.sign(pae));
      expect(error.message).toMatch(/shorter than the rotation margin/);
      expect(world.fulcio.issuedCount()).toBe(1);
    });
  });
});

describe('CertificateSessions SCT handling', () => {
  let world: KeylessWorld;
  beforeEach(async () => {
    world = await startKeylessWorld({ sct: 'detached' });
  });
  afterEach(() => world.close());

  describe('when Fulcio returns a detached SCT', () => {
    it('refuses by default: a v0.3 bundle can only carry an embedded SCT', async () => {
      const error = await refusal(world.signer().signer.sign(pae));
      expect(error.message).toMatch(/no embedded SCT/);
    });

    it('signs when embedded SCTs are not required (private Fulcio without a CT log)', async () => {
      const result = await world.signer({ requireEmbeddedSct: false }).signer.sign(pae);
      expect(result.certificateChain).toHaveLength(3);
    });
  });
});
