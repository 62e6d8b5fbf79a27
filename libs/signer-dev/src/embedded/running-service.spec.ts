import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  EMBEDDED_PROFILE_FORMAT,
  embeddedSignerUrl,
  ensureEmbeddedProfile,
  generateEmbeddedProfile,
  type EmbeddedProfile,
} from './embedded-profile';
import { readServiceRecord, SERVICE_RECORD_FILE, type ServiceRecord } from './running-service';

/** A pid that belonged to a process which has exited (a stale record's). */
const exitedPid = (): number => spawnSync(process.execPath, ['-e', '0']).pid as number;

describe('embeddedSignerUrl', () => {
  let dir: string;
  let profile: EmbeddedProfile;
  const record = (fields: Partial<ServiceRecord>) =>
    writeFileSync(
      join(dir, SERVICE_RECORD_FILE),
      JSON.stringify({
        pid: process.pid,
        url: 'http://127.0.0.1:39411',
        config: profile.configPath,
        ...fields,
      }),
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'signer-dev-url-'));
    profile = await generateEmbeddedProfile(dir);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('when no service runs on the profile', () => {
    it('is the URL of the default port', () => {
      rmSync(join(dir, SERVICE_RECORD_FILE), { force: true });

      expect(embeddedSignerUrl(dir)).toBe('http://127.0.0.1:8080');
    });
  });

  describe('when npm start recorded a running service on a moved port', () => {
    it('is the URL the service reported', () => {
      record({});

      expect(embeddedSignerUrl(dir)).toBe('http://127.0.0.1:39411');
    });
  });

  describe('when the recorded service has exited', () => {
    it('ignores the stale record', () => {
      record({ pid: exitedPid() });

      expect([readServiceRecord(dir), embeddedSignerUrl(dir)]).toEqual([undefined, 'http://127.0.0.1:8080']);
    });
  });

  describe('when the running service uses another config', () => {
    it('keeps the profile URL (that service does not trust the profile tokens)', () => {
      record({ config: join(dir, 'operator.yaml') });

      expect(embeddedSignerUrl(dir)).toBe('http://127.0.0.1:8080');
    });
  });
});

describe('ensureEmbeddedProfile', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'signer-dev-ensure-'));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe('when the folder is empty', () => {
    it('generates a profile of the current format', async () => {
      const { profile, generated } = await ensureEmbeddedProfile(dir);

      expect([generated, profile.format]).toEqual([true, EMBEDDED_PROFILE_FORMAT]);
    });
  });

  describe('when a current profile is there', () => {
    it('keeps it, keys included', async () => {
      const key = readFileSync(join(dir, 'signing/default.pem'), 'utf8');

      const { generated } = await ensureEmbeddedProfile(dir);

      expect([generated, readFileSync(join(dir, 'signing/default.pem'), 'utf8')]).toEqual([false, key]);
    });
  });

  describe('when the profile predates the current format (a port frozen in its config)', () => {
    it('regenerates it', async () => {
      const stored = JSON.parse(readFileSync(join(dir, 'profile.json'), 'utf8')) as Record<string, unknown>;
      delete stored['format'];
      writeFileSync(join(dir, 'profile.json'), JSON.stringify(stored));

      const { profile, generated } = await ensureEmbeddedProfile(dir);

      expect([generated, profile.format]).toEqual([true, EMBEDDED_PROFILE_FORMAT]);
    });
  });
});
