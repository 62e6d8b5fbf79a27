import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals';
import { mkdtemp, open, readFile, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GENESIS_HASH, SignerError, verifyAuditChain, type ChainedAuditRecord } from '@signer/core';
import { auditRecord } from '../../test/audit-records';
import { refusal } from '../../test/refusal';
import { readAuditFile } from './audit-file';
import { FileAuditSink, type FileAuditSinkOptions } from './file-audit-sink';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signer-audit-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function readAll(path: string): Promise<ChainedAuditRecord[]> {
  const records: ChainedAuditRecord[] = [];
  for await (const record of readAuditFile(path)) records.push(record);
  return records;
}

/** Opens the sink through the real file system while keeping the handle for spies. */
async function openObserved(
  options: FileAuditSinkOptions,
): Promise<{ sink: FileAuditSink; handle: () => FileHandle }> {
  let handle: FileHandle | undefined;
  const sink = await FileAuditSink.open({
    ...options,
    open: async (path, flags, mode) => {
      handle = await open(path, flags, mode);
      return handle;
    },
  });
  return {
    sink,
    handle: () => {
      if (handle === undefined) throw new Error('sink opened no file');
      return handle;
    },
  };
}

describe('FileAuditSink', () => {
  describe('when the file does not exist', () => {
    it('creates it, with its parent directories, readable by the owner only', async () => {
      const filePath = join(dir, 'nested', 'audit', 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      await sink.append(auditRecord(1));
      await sink.close();
      expect((await stat(filePath)).mode & 0o777).toBe(0o600);
      const [first] = await readAll(filePath);
      expect(first.prevHash).toBe(GENESIS_HASH);
    });
  });

  describe('when 200 appends arrive concurrently', () => {
    it('writes a valid chain with far fewer syncs than records', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const { sink, handle } = await openObserved({ filePath });
      const datasync = jest.spyOn(handle(), 'datasync');
      const write = jest.spyOn(handle(), 'write');
      await Promise.all(Array.from({ length: 200 }, (_, n) => sink.append(auditRecord(n))));
      await sink.close();
      const records = await readAll(filePath);
      expect(verifyAuditChain(records)).toMatchObject({ ok: true, count: 200 });
      expect(records.map((r) => r.auditId)).toEqual(
        Array.from({ length: 200 }, (_, n) => auditRecord(n).auditId),
      );
      expect(datasync.mock.calls.length).toBeLessThanOrEqual(10);
      expect(write.mock.calls.length).toBeLessThanOrEqual(10);
    });

    it('resolves each append only after a sync covering its line', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const { sink, handle } = await openObserved({ filePath });
      const synced = new Set<string>();
      const real = handle().datasync.bind(handle());
      jest.spyOn(handle(), 'datasync').mockImplementation(async () => {
        await real();
        for (const record of await readAll(filePath)) synced.add(record.auditId);
      });
      const unsynced: string[] = [];
      await Promise.all(
        Array.from({ length: 50 }, (_, n) =>
          sink.append(auditRecord(n)).then(() => {
            if (!synced.has(auditRecord(n).auditId)) unsynced.push(auditRecord(n).auditId);
          }),
        ),
      );
      await sink.close();
      expect(synced.size).toBe(50);
      expect(unsynced).toEqual([]);
    });
  });

  describe('when a record leaves optional fields undefined', () => {
    it('stores a line whose hash still verifies', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      await sink.append({ ...auditRecord(1), tenant: undefined, keyId: undefined });
      await sink.close();
      expect(verifyAuditChain(await readAll(filePath))).toMatchObject({ ok: true, count: 1 });
    });
  });

  describe('when a batch exceeds maxBatchRecords', () => {
    it('splits it into several writes that still form one chain', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const { sink, handle } = await openObserved({ filePath, maxBatchRecords: 8 });
      const datasync = jest.spyOn(handle(), 'datasync');
      await Promise.all(Array.from({ length: 20 }, (_, n) => sink.append(auditRecord(n))));
      await sink.close();
      expect(datasync).toHaveBeenCalledTimes(3);
      expect(verifyAuditChain(await readAll(filePath))).toMatchObject({ ok: true, count: 20 });
    });
  });

  describe('when an existing trail is reopened', () => {
    it('continues the chain from its last record', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const first = await FileAuditSink.open({ filePath });
      await Promise.all([1, 2, 3].map((n) => first.append(auditRecord(n))));
      await first.close();
      const second = await FileAuditSink.open({ filePath });
      await Promise.all([4, 5].map((n) => second.append(auditRecord(n))));
      await second.close();
      const records = await readAll(filePath);
      expect(verifyAuditChain(records)).toMatchObject({ ok: true, count: 5 });
      expect(records[3].prevHash).toBe(records[2].hash);
    });
  });

  describe('when a stored line is tampered with', () => {
    it('is detected by verifyAuditChain at that record', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      await Promise.all([0, 1, 2, 3].map((n) => sink.append(auditRecord(n))));
      await sink.close();
      const lines = (await readFile(filePath, 'utf8')).split('\n');
      lines[2] = lines[2].replace('"outcome":"signed"', '"outcome":"checked"');
      await writeFile(filePath, lines.join('\n'));
      expect(verifyAuditChain(await readAll(filePath))).toMatchObject({ ok: false, index: 2 });
    });
  });

  describe('when the tail of an existing file is corrupt', () => {
    it.each([
      { name: 'a torn last line', tail: '{"auditId":"x","prevHash":"' },
      { name: 'a last line that is not JSON', tail: 'not json\n' },
      { name: 'a last line without chain fields', tail: '{"auditId":"x"}\n' },
    ])('refuses to open on $name', async ({ tail }) => {
      const filePath = join(dir, 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      await sink.append(auditRecord(1));
      await sink.close();
      await writeFile(filePath, tail, { flag: 'a' });
      const error = await refusal(FileAuditSink.open({ filePath }));
      expect(error.code).toBe('upstream_unavailable');
      expect(error.upstream).toBe('audit');
      expect(error.message).toContain('corrupt at its tail');
    });

    it('refuses to open on a last record whose hash does not match', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      await Promise.all([1, 2].map((n) => sink.append(auditRecord(n))));
      await sink.close();
      const text = await readFile(filePath, 'utf8');
      await writeFile(filePath, text.replace('"latencyMs":2', '"latencyMs":3'));
      expect((await refusal(FileAuditSink.open({ filePath }))).message).toContain('corrupt at its tail');
    });
  });

  describe('when the path cannot hold a file', () => {
    it('rejects with upstream_unavailable when the path is a directory', async () => {
      const error = await refusal(FileAuditSink.open({ filePath: dir }));
      expect(error).toBeInstanceOf(SignerError);
      expect(error.code).toBe('upstream_unavailable');
      expect(error.upstream).toBe('audit');
      expect(error.cause).toBeDefined();
    });

    it('rejects with upstream_unavailable when a parent is a regular file', async () => {
      const blocker = join(dir, 'blocker');
      await writeFile(blocker, '');
      const error = await refusal(FileAuditSink.open({ filePath: join(blocker, 'audit.jsonl') }));
      expect(error.code).toBe('upstream_unavailable');
    });
  });

  describe('when a write fails', () => {
    it('rejects every pending append, then chains the next batch onto the last durable record', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const { sink, handle } = await openObserved({ filePath });
      await sink.append(auditRecord(0));
      // The once-implementation is used up when called, so the inner write reaches the real file.
      jest.spyOn(handle(), 'write').mockImplementationOnce(async (data: unknown) => {
        if (!Buffer.isBuffer(data)) throw new Error('expected the sink to write a Buffer');
        await handle().write(data, 0, Math.floor(data.length / 2));
        throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      });
      const failed = await Promise.all([1, 2, 3].map((n) => refusal(sink.append(auditRecord(n)))));
      for (const error of failed) {
        expect(error).toBeInstanceOf(SignerError);
        expect(error.code).toBe('upstream_unavailable');
        expect(error.upstream).toBe('audit');
        expect(error.cause).toMatchObject({ code: 'ENOSPC' });
      }
      await sink.append(auditRecord(4));
      await sink.close();
      const records = await readAll(filePath);
      expect(records.map((r) => r.auditId)).toEqual(['audit-0000', 'audit-0004']);
      expect(verifyAuditChain(records)).toMatchObject({ ok: true, count: 2 });
    });
  });

  describe('when a sync fails', () => {
    it('rejects the batch and leaves none of its lines in the file', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const { sink, handle } = await openObserved({ filePath });
      jest
        .spyOn(handle(), 'datasync')
        .mockRejectedValueOnce(Object.assign(new Error('I/O error'), { code: 'EIO' }));
      expect((await refusal(sink.append(auditRecord(1)))).code).toBe('upstream_unavailable');
      await sink.append(auditRecord(2));
      await sink.close();
      const records = await readAll(filePath);
      expect(records.map((r) => r.auditId)).toEqual(['audit-0002']);
      expect(records[0].prevHash).toBe(GENESIS_HASH);
    });
  });

  describe('when the file cannot be restored after a failed write', () => {
    it('refuses every later append', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const { sink, handle } = await openObserved({ filePath });
      jest.spyOn(handle(), 'datasync').mockRejectedValueOnce(new Error('EIO'));
      jest.spyOn(handle(), 'truncate').mockRejectedValueOnce(new Error('EIO'));
      await refusal(sink.append(auditRecord(1)));
      const error = await refusal(sink.append(auditRecord(2)));
      expect(error.code).toBe('upstream_unavailable');
      expect(error.message).toContain('could not be restored');
      await sink.close();
    });
  });

  describe('when closed', () => {
    it('settles accepted appends first, then refuses new ones', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      const accepted = Array.from({ length: 5 }, (_, n) => sink.append(auditRecord(n)));
      await Promise.all([sink.close(), sink.close()]);
      await expect(Promise.all(accepted)).resolves.toHaveLength(5);
      expect((await refusal(sink.append(auditRecord(9)))).code).toBe('upstream_unavailable');
      expect(await readAll(filePath)).toHaveLength(5);
    });
  });

  describe('when a record cannot be serialised', () => {
    it('rejects that append only', async () => {
      const filePath = join(dir, 'audit.jsonl');
      const sink = await FileAuditSink.open({ filePath });
      const bad = { ...auditRecord(1), latencyMs: 10n as unknown as number };
      const [good, rejected] = await Promise.allSettled([sink.append(auditRecord(0)), sink.append(bad)]);
      await sink.close();
      expect(good.status).toBe('fulfilled');
      expect(rejected).toMatchObject({ status: 'rejected', reason: { code: 'internal_error' } });
      expect(verifyAuditChain(await readAll(filePath))).toMatchObject({ ok: true, count: 1 });
    });
  });
});
