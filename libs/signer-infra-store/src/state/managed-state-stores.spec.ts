import { afterAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError, type ManagedState, type ManagedStateStore } from '@signer/core';
import { createThrowawayDatabase, type ThrowawayDatabase } from '@signer/testing';
import { FileManagedStateStore } from './file-managed-state-store';
import { MemoryManagedStateStore } from './memory-managed-state-store';
import { PostgresManagedStateStore, STATE_TABLE } from './postgres-managed-state-store';

const databases: ThrowawayDatabase[] = [];
const dirs: string[] = [];
const stores: ManagedStateStore[] = [];

function state(version: number, installation = 'primary'): ManagedState {
  return {
    version,
    updatedAt: new Date(Date.UTC(2026, 11, 2, 10, 0, version)).toISOString(),
    keys: [],
    defaults: { installation, plans: { pro: 'pro-key' } },
    trustAnchors: [],
  };
}

const kinds: Array<[string, () => Promise<ManagedStateStore>]> = [
  ['memory', async () => new MemoryManagedStateStore()],
  [
    'file',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'signer-state-'));
      dirs.push(dir);
      return new FileManagedStateStore({ filePath: join(dir, 'nested', 'state.json') });
    },
  ],
  [
    'postgres',
    async () => {
      const db = await createThrowawayDatabase('signer_state_test');
      databases.push(db);
      return PostgresManagedStateStore.open({ connectionString: db.url });
    },
  ],
];

async function open(make: () => Promise<ManagedStateStore>): Promise<ManagedStateStore> {
  const store = await make();
  stores.push(store);
  return store;
}

afterAll(async () => {
  await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
  for (const db of databases) await db.drop();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe.each(kinds)('%s managed state store', (_, make) => {
  describe('when empty', () => {
    it('loads nothing and accepts the first state only at expected version 0', async () => {
      const store = await open(make);
      await expect(store.load()).resolves.toBeUndefined();
      await expect(store.compareAndSet(1, state(2))).resolves.toBe(false);
      await expect(store.compareAndSet(0, state(1))).resolves.toBe(true);
      await expect(store.compareAndSet(0, state(1, 'other'))).resolves.toBe(false);
      await expect(store.load()).resolves.toEqual(state(1));
    });
  });

  describe('when writers race on one version', () => {
    it('lets exactly one of them win', async () => {
      const store = await open(make);
      await store.compareAndSet(0, state(1));
      const results = await Promise.all(
        ['a', 'b', 'c', 'd'].map((name) => store.compareAndSet(1, state(2, name))),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      const stored = await store.load();
      expect(stored?.version).toBe(2);
      expect(['a', 'b', 'c', 'd'][results.indexOf(true)]).toBe(stored?.defaults.installation);
      await expect(store.compareAndSet(1, state(2))).resolves.toBe(false);
      await expect(store.compareAndSet(2, state(3))).resolves.toBe(true);
    });
  });
});

describe('FileManagedStateStore', () => {
  it('replaces the file whole, private to the service account, leaving no temporary file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signer-state-'));
    dirs.push(dir);
    const filePath = join(dir, 'state.json');
    const store = new FileManagedStateStore({ filePath });
    await store.compareAndSet(0, state(1));
    await store.compareAndSet(1, state(2));
    expect(JSON.parse(await readFile(filePath, 'utf8'))).toEqual(state(2));
    expect((await stat(filePath)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['state.json']);
  });

  it('refuses a file that holds no managed state with upstream_unavailable (state)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'signer-state-'));
    dirs.push(dir);
    const filePath = join(dir, 'state.json');
    await writeFile(filePath, '{"hello":1}');
    const error = await new FileManagedStateStore({ filePath }).load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SignerError);
    expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'state' });
  });
});

describe('PostgresManagedStateStore', () => {
  it('shares one state between replicas, in the signer_state schema', async () => {
    const db = await createThrowawayDatabase('signer_state_test');
    databases.push(db);
    const [a, b] = await Promise.all([
      open(() => PostgresManagedStateStore.open({ connectionString: db.url })),
      open(() => PostgresManagedStateStore.open({ connectionString: db.url })),
    ]);
    await a.compareAndSet(0, state(1));
    await expect(b.load()).resolves.toEqual(state(1));
    await expect(b.compareAndSet(1, state(2, 'b'))).resolves.toBe(true);
    await expect(a.compareAndSet(1, state(2, 'a'))).resolves.toBe(false);
    const rows = await db.sql<{ version: string }>(`SELECT version FROM ${STATE_TABLE}`);
    expect(rows).toEqual([{ version: '2' }]);
  });

  it('answers upstream_unavailable (state) when PostgreSQL is unreachable', async () => {
    const db = await createThrowawayDatabase('signer_state_test');
    databases.push(db);
    const store = await open(() => PostgresManagedStateStore.open({ connectionString: db.url }));
    await db.drop();
    databases.splice(databases.indexOf(db), 1);
    const error = await store.load().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'upstream_unavailable', upstream: 'state' });
  });
});
