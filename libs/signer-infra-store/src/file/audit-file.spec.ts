import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerError, chainAuditRecord, GENESIS_HASH, type ChainedAuditRecord } from '@signer/core';
import { auditRecord } from '../../test/audit-records';
import { readAuditFile, verifyAuditFile } from './audit-file';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'signer-audit-file-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function chain(count: number): ChainedAuditRecord[] {
  const records: ChainedAuditRecord[] = [];
  let prevHash = GENESIS_HASH;
  for (let n = 0; n < count; n += 1) {
    const record = chainAuditRecord(auditRecord(n), prevHash);
    records.push(record);
    prevHash = record.hash;
  }
  return records;
}

async function writeTrail(records: ChainedAuditRecord[]): Promise<string> {
  const filePath = join(dir, 'audit.jsonl');
  await writeFile(filePath, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
  return filePath;
}

describe('readAuditFile', () => {
  describe('when the file holds a chain', () => {
    it('yields its records in order', async () => {
      const records = chain(3);
      const read: ChainedAuditRecord[] = [];
      for await (const record of readAuditFile(await writeTrail(records))) read.push(record);
      expect(read).toEqual(records);
    });
  });

  describe('when a line is not a record', () => {
    it('throws upstream_unavailable naming the line', async () => {
      const filePath = await writeTrail(chain(2));
      await writeFile(filePath, 'garbage\n', { flag: 'a' });
      const consume = async (): Promise<void> => {
        for await (const record of readAuditFile(filePath)) expect(record.hash).toBeDefined();
      };
      await expect(consume()).rejects.toThrow(SignerError);
      await expect(consume()).rejects.toThrow('line 3');
    });
  });
});

describe('verifyAuditFile', () => {
  describe('when the chain is intact', () => {
    it('reports the count and last hash', async () => {
      const records = chain(4);
      await expect(verifyAuditFile(await writeTrail(records))).resolves.toEqual({
        ok: true,
        count: 4,
        lastHash: records[3].hash,
      });
    });
  });

  describe('when the file is empty', () => {
    it('reports an empty, valid chain', async () => {
      await expect(verifyAuditFile(await writeTrail([]))).resolves.toEqual({
        ok: true,
        count: 0,
        lastHash: GENESIS_HASH,
      });
    });
  });

  describe('when a record was edited', () => {
    it('reports the edited record', async () => {
      const filePath = await writeTrail(chain(4));
      const text = await readFile(filePath, 'utf8');
      await writeFile(filePath, text.replace('"latencyMs":1', '"latencyMs":9'));
      await expect(verifyAuditFile(filePath)).resolves.toMatchObject({ ok: false, index: 1 });
    });
  });

  describe('when a record was removed', () => {
    it('reports the record after the gap', async () => {
      const records = chain(4);
      const filePath = await writeTrail([records[0], records[2], records[3]]);
      await expect(verifyAuditFile(filePath)).resolves.toMatchObject({ ok: false, index: 1 });
    });
  });

  describe('when a line is not JSON', () => {
    it('reports it as broken rather than throwing', async () => {
      const filePath = await writeTrail(chain(2));
      await writeFile(filePath, '{"torn\n', { flag: 'a' });
      await expect(verifyAuditFile(filePath)).resolves.toMatchObject({ ok: false, index: 2 });
    });
  });
});
