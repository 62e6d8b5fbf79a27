import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DpopKey } from '@signer/client';
import { EMBEDDED_STATE_FILE, generateEmbeddedProfile, type EmbeddedProfile } from '@signer/dev';
import { freePort, privateSignerBundle, SignerProcess, type PrivateBundle } from '@signer/testing';
import { newCaller, profileParties } from './harness';

jest.setTimeout(120_000);

const CEREMONIES = '/api/v1/signer/ceremonies';

/**
 * The embedded profile keeps the managed key state and the ceremonies in its own folder
 * (`state.store: file`): what a ceremony changed is still there after the service restarts.
 */
describe('embedded profile state across a restart (the built service)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'signer-embedded-state-'));
  const keyFile = join(dir, 'next.pem');
  let service: PrivateBundle | undefined;
  let profile: EmbeddedProfile;
  let signer: SignerProcess | undefined;

  beforeAll(async () => {
    const next = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    writeFileSync(keyFile, next.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
    [service, profile] = await Promise.all([
      privateSignerBundle('embedded-state-restart'),
      generateEmbeddedProfile(join(dir, 'profile'), { nonce: 'optional' }),
    ]);
    signer = await SignerProcess.start({
      bundle: service.main,
      port: await freePort(),
      stdout: 'drain',
      env: { SIGNER_CONFIG: profile.configPath },
    });
  }, 120_000);

  afterAll(async () => {
    await signer?.stop();
    service?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  const call = async (
    caller: { key: DpopKey; token: string },
    method: string,
    path: string,
    body?: unknown,
  ) => {
    const url = `${signer?.url}${path}`;
    const response = await fetch(url, {
      method,
      headers: {
        authorization: `DPoP ${caller.token}`,
        dpop: await caller.key.proof({ method, url, accessToken: caller.token }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const keys = async () =>
    (await (await fetch(`${signer?.url}/api/v1/signer/keys`)).json()) as {
      keys: Array<{ name: string; state: string }>;
      stateVersion: number;
    };

  it('still lists a key registered by ceremony, and the executed ceremony, after a restart', async () => {
    const { authority } = await profileParties(profile);
    const alice = await newCaller(authority, profile, {
      subject: 'ops-alice',
      scope: 'signer.ceremony.initiate',
    });
    const bob = await newCaller(authority, profile, { subject: 'ops-bob', scope: 'signer.ceremony.approve' });
    const carol = await newCaller(authority, profile, {
      subject: 'ops-carol',
      scope: 'signer.ceremony.approve',
    });
    const created = await call(alice, 'POST', CEREMONIES, {
      operation: { kind: 'key.register', name: 'next', ref: `file://${keyFile}` },
    });
    expect(created.status).toBe(201);
    const id = created.body['id'] as string;
    expect((await call(bob, 'POST', `${CEREMONIES}/${id}/approve`)).status).toBe(200);
    expect((await call(carol, 'POST', `${CEREMONIES}/${id}/approve`)).status).toBe(200);
    expect((await call(alice, 'POST', `${CEREMONIES}/${id}/execute`)).status).toBe(200);
    const before = await keys();
    expect(before.keys.find((k) => k.name === 'next')).toMatchObject({ state: 'pending' });
    expect(existsSync(join(profile.dir, EMBEDDED_STATE_FILE))).toBe(true);

    await signer?.stop();
    await signer?.start();

    expect(await keys()).toEqual(before);
    expect(await call(bob, 'GET', `${CEREMONIES}/${id}`)).toMatchObject({
      status: 200,
      body: { id, status: 'executed', resultVersion: before.stateVersion },
    });
  });
});
