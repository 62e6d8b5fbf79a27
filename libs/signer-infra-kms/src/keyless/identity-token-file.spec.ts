import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError } from '@signer/core';
import { ManualClock } from '@signer/testing';
import { IdentityTokenFile } from './identity-token-file';

const jwt = (claims: Record<string, unknown>) =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`;
const clock = new ManualClock('2026-06-01T12:00:00Z');
const NOW = Date.parse('2026-06-01T12:00:00Z') / 1000;

describe('IdentityTokenFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signer-token-'));
  const path = join(dir, 'token');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const read = () => new IdentityTokenFile({ path, clock }).read();

  describe('when the token has a verified email', () => {
    it('challenges with the email, as Fulcio expects', async () => {
      writeFileSync(path, `${jwt({ sub: 's', email: 'a@b.test', email_verified: true, exp: NOW + 60 })}\n`);
      await expect(read()).resolves.toMatchObject({ challenge: 'a@b.test' });
    });
  });

  describe('when the token has only a subject', () => {
    it('challenges with the subject', async () => {
      writeFileSync(path, jwt({ sub: 'https://k8s.test/sa/signer', exp: NOW + 60 }));
      await expect(read()).resolves.toMatchObject({ challenge: 'https://k8s.test/sa/signer' });
    });
  });

  describe('when the file changes between reads', () => {
    it('returns the new token (re-read on every certificate request)', async () => {
      writeFileSync(path, jwt({ sub: 'first', exp: NOW + 60 }));
      const first = await read();
      writeFileSync(path, jwt({ sub: 'second', exp: NOW + 60 }));
      expect([first.challenge, (await read()).challenge]).toEqual(['first', 'second']);
    });
  });

  describe('when the token cannot be used', () => {
    it.each([
      ['expired', () => jwt({ sub: 's', exp: NOW - 1 }), /has expired/],
      ['with an unverified email', () => jwt({ sub: 's', email: 'a@b.test', exp: NOW + 60 }), /not verified/],
      ['without a subject', () => jwt({ exp: NOW + 60 }), /neither a verified email nor a subject/],
      ['not a JWT', () => 'secret-token-value', /does not hold a JWT/],
    ])(
      'refuses a token %s with upstream_unavailable (fulcio), never quoting it',
      async (_label, make, message) => {
        const token = make();
        writeFileSync(path, token);
        const error = await read().catch((e: unknown) => e as SignerError);
        expect(error).toBeInstanceOf(SignerError);
        expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'fulcio' });
        expect((error as SignerError).message).toMatch(message);
        expect((error as SignerError).message).not.toContain(token);
      },
    );

    it('refuses a missing file', async () => {
      await expect(new IdentityTokenFile({ path: join(dir, 'absent'), clock }).read()).rejects.toMatchObject({
        code: 'upstream_unavailable',
      });
    });
  });
});
