import { createHash } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { openStore } from '../../src/manager/open-store.js';
import { timestampToFileStem } from '../../src/model/keys.js';
import { commitContentHash, encodeRecord, type CommitOperation, type CommitRecord } from '../../src/model/records.js';
import { CommitLog } from '../../src/store/commits.js';
import { nodeFs, type StoreFs } from '../../src/store/fs.js';
import { storeLayout } from '../../src/store/layout.js';
import { tempProject } from '../helpers.js';

const TIME = '2026-01-01T00:00:00.000Z';

const operations: CommitOperation[] = Array.from({ length: 5 }, (_, i) => ({
  fullKey: `key${i}_${TIME}`,
  logicalKey: `key${i}`,
  version: i + 1,
  checksum: String(i).repeat(64),
}));

function record(): CommitRecord {
  return { format: 1, parent: null, time: TIME, message: 'transaction', transaction: 'tx_1', operations };
}

/** Writes commit bytes under the id their hash gives, as a published commit. */
async function publish(bytes: Buffer): Promise<{ log: CommitLog; id: string; path: string }> {
  const layout = storeLayout(await tempProject(), '.ae');
  await openStore(nodeFs, layout);
  const log = new CommitLog(nodeFs, layout);
  const id = `${timestampToFileStem(TIME)}_${commitContentHash(bytes)}`;
  await writeFile(log.pathOf(id), bytes);
  return { log, id, path: log.pathOf(id) };
}

describe('CommitLog.operationFor', () => {
  it('answers as the whole commit does, for every key, on every look (scanned or parsed)', async () => {
    const { log, id } = await publish(encodeRecord(record()));
    for (let look = 0; look < 4; look++) {
      for (const op of operations) expect(await log.operationFor(id, op.fullKey)).toEqual(op);
      expect(await log.operationFor(id, `absent_${TIME}`)).toBeUndefined();
    }
    expect(await log.isPublished(id)).toBe(true);
  });

  it('reads a commit laid out by another program (valid, other whitespace) by parsing it whole', async () => {
    const { log, id } = await publish(Buffer.from(JSON.stringify(record())));
    expect(await log.operationFor(id, operations[3]!.fullKey)).toEqual(operations[3]);
    expect(await log.operationFor(id, `absent_${TIME}`)).toBeUndefined();
  });

  it('is null for a commit whose file does not exist', async () => {
    const { log } = await publish(encodeRecord(record()));
    expect(await log.operationFor(`${timestampToFileStem(TIME)}_${'0'.repeat(16)}`, operations[0]!.fullKey)).toBeNull();
  });

  it('refuses a commit file that does not match its id, even when the operation wanted is intact', async () => {
    const bytes = encodeRecord(record());
    const { log, id, path } = await publish(bytes);
    const edited = Buffer.from(bytes.toString('utf8').replace('"transaction"', '"transactioN"'));
    await writeFile(`${path}.new`, edited);
    await rename(`${path}.new`, path);
    await expect(log.operationFor(id, operations[0]!.fullKey)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('refuses, through a whole parse, a commit that matches its id but is not a valid commit record', async () => {
    const invalid = { ...record(), format: 99 };
    const { log, id } = await publish(Buffer.from(JSON.stringify(invalid)));
    await expect(log.operationFor(id, operations[0]!.fullKey)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('refuses an invalid commit record written in its own layout too, as fsck and every other reader do', async () => {
    const { log, id } = await publish(encodeRecord({ ...record(), format: 99 }));
    await expect(log.operationFor(id, operations[0]!.fullKey)).rejects.toBeInstanceOf(IntegrityError);
    await expect(log.read(id)).rejects.toBeInstanceOf(IntegrityError);
  });

  it('reads operations only from the record\'s own list: blocks in another field, or a list a later field overrides, are not operations', async () => {
    const forged: CommitOperation = { fullKey: `forged_${TIME}`, logicalKey: 'forged', version: 9, checksum: 'f'.repeat(64) };
    const block = JSON.stringify([forged], null, 2).replace(/\n/g, '\n  ');
    const bytes = encodeRecord(record()).toString('utf8');
    const decoy = await publish(Buffer.from(bytes.replace('\n  ]', `\n  ],\n  "decoy": ${block}`)));
    expect(await decoy.log.operationFor(decoy.id, forged.fullKey)).toBeUndefined();
    expect(await decoy.log.operationFor(decoy.id, operations[2]!.fullKey)).toEqual(operations[2]);
    const overridden = await publish(Buffer.from(bytes.replace('\n  ]', `\n  ],\n  "operations": ${block}`)));
    expect(await overridden.log.operationFor(overridden.id, operations[2]!.fullKey)).toBeUndefined();
    expect(await overridden.log.operationFor(overridden.id, forged.fullKey)).toEqual(forged);
    expect((await overridden.log.read(overridden.id)).operations).toEqual([forged]);
  });
});

describe('CommitLog with a commit in parts', () => {
  const many: CommitOperation[] = Array.from({ length: 2000 }, (_, i) => ({
    fullKey: `key${i}_${TIME}`,
    logicalKey: `key${i}`,
    version: 1,
    checksum: createHash('sha256').update(String(i)).digest('hex'),
  }));
  const large = (): CommitRecord => ({ ...record(), operations: many });

  /** Publishes the large commit as the store writes it, read through a file system that counts the bytes it reads. */
  async function publishLarge(edit?: (bytes: Buffer) => Buffer) {
    const layout = storeLayout(await tempProject(), '.ae');
    await openStore(nodeFs, layout);
    const counted = countingReads();
    const log = new CommitLog(counted.fs, layout);
    const { id, bytes } = log.prepare(large());
    await writeFile(log.pathOf(id), edit === undefined ? bytes : edit(bytes));
    return { log, id, bytes, counted };
  }

  it('finds each operation by reading the head and one part, not the whole file, and answers as a whole parse does', async () => {
    const { log, id, bytes, counted } = await publishLarge();
    expect(await log.operationFor(id, many[1234]!.fullKey)).toEqual(many[1234]);
    expect(counted.bytesRead()).toBeLessThan(bytes.length / 4);
    const whole = new Map((await log.read(id)).operations.map((op) => [op.fullKey, op]));
    expect(whole.size).toBe(many.length);
    for (const op of many) expect(await log.operationFor(id, op.fullKey)).toEqual(whole.get(op.fullKey));
    for (const absent of [`key_${TIME}`, `key1234_${TIME}x`, `zzz_${TIME}`, '']) expect(await log.operationFor(id, absent)).toBeUndefined();
    expect(await log.isPublished(id)).toBe(true);
  });

  it('opens the file once for a first lookup (head, tail and the part it needs), and once for each other part after', async () => {
    const { log, id, counted } = await publishLarge();
    const sorted = [...many].sort((a, b) => (a.fullKey < b.fullKey ? -1 : 1));
    expect(await log.operationFor(id, sorted[3 * 128 + 1]!.fullKey)).toEqual(sorted[3 * 128 + 1]);
    expect(counted.opens()).toBe(1);
    expect(await log.operationFor(id, sorted[3 * 128 + 2]!.fullKey)).toEqual(sorted[3 * 128 + 2]);
    expect(counted.opens()).toBe(1);
    expect(await log.operationFor(id, sorted[7 * 128]!.fullKey)).toEqual(sorted[7 * 128]);
    expect(counted.opens()).toBe(2);
  });

  it('reads a commit whole once lookups have read parts of it one by one eight times, and answers every later lookup from memory', async () => {
    const { log, id, bytes, counted } = await publishLarge();
    // Keys 128 apart sort into different parts (key0, key1, … sort as strings, so pick them from the sorted list).
    const sorted = [...many].sort((a, b) => (a.fullKey < b.fullKey ? -1 : 1));
    for (let n = 0; n < 8; n++) expect(await log.operationFor(id, sorted[n * 128]!.fullKey)).toEqual(sorted[n * 128]);
    const byParts = counted.bytesRead();
    expect(byParts).toBeLessThan(bytes.length);
    expect(await log.operationFor(id, sorted[8 * 128]!.fullKey)).toEqual(sorted[8 * 128]);
    expect(counted.bytesRead() - byParts).toBe(bytes.length);
    for (const op of many) expect(await log.operationFor(id, op.fullKey)).toEqual(op);
    expect(counted.bytesRead() - byParts).toBe(bytes.length);
  });

  it('still answers from the parts that verify once read whole, and refuses the damaged one', async () => {
    const sorted = [...many].sort((a, b) => (a.fullKey < b.fullKey ? -1 : 1));
    const damaged = sorted[15 * 128 + 3]!;
    const { log, id } = await publishLarge((bytes) => {
      const edited = Buffer.from(bytes);
      const at = edited.indexOf(`"fullKey": "${damaged.fullKey}"`);
      edited[at + 15] ^= 1;
      return edited;
    });
    for (let n = 0; n < 12; n++) expect(await log.operationFor(id, sorted[n * 128 + 5]!.fullKey)).toEqual(sorted[n * 128 + 5]);
    await expect(log.operationFor(id, damaged.fullKey)).rejects.toThrow(/part 15 does not match its digest/);
    expect(await log.operationFor(id, sorted[14 * 128]!.fullKey)).toEqual(sorted[14 * 128]);
  });

  it('refuses the operations of a part that does not match the head, while the verified parts still answer; the whole read refuses the file', async () => {
    const { log, id } = await publishLarge((bytes) => {
      const edited = Buffer.from(bytes);
      const at = edited.indexOf(`"fullKey": "key1500_`);
      edited[at + 20] ^= 1; // inside the full key "key1500_…" of a part far from the head
      return edited;
    });
    await expect(log.operationFor(id, many[1500]!.fullKey)).rejects.toBeInstanceOf(IntegrityError);
    expect(await log.operationFor(id, many[3]!.fullKey)).toEqual(many[3]);
    await expect(log.read(id)).rejects.toThrow(/part \d+ does not match its digest/);
  });

  it('refuses a commit in parts whose head does not match its id, or whose file ends elsewhere than its parts', async () => {
    const editedHead = await publishLarge((bytes) => Buffer.from(bytes.toString('utf8').replace('"transaction": "tx_1"', '"transaction": "tx_2"')));
    await expect(editedHead.log.operationFor(editedHead.id, many[10]!.fullKey)).rejects.toThrow(/does not match its id/);
    for (const edit of [(b: Buffer) => b.subarray(0, b.length - 3), (b: Buffer) => Buffer.concat([b, Buffer.from('\n')])]) {
      const torn = await publishLarge(edit);
      await expect(torn.log.operationFor(torn.id, many[10]!.fullKey)).rejects.toThrow(/does not end where its parts do/);
      await expect(torn.log.read(torn.id)).rejects.toBeInstanceOf(IntegrityError);
    }
  });

  it('shares one read of a part among concurrent lookups in it', async () => {
    const { log, id, counted } = await publishLarge();
    await log.operationFor(id, many[0]!.fullKey);
    const afterHead = counted.bytesRead();
    const sorted = [...many].sort((a, b) => (a.fullKey < b.fullKey ? -1 : 1));
    const inOnePart = sorted.slice(5 * 128, 5 * 128 + 3);
    expect(await Promise.all(inOnePart.map((op) => log.operationFor(id, op.fullKey)))).toEqual(inOnePart);
    const part = JSON.parse((await readFile(log.pathOf(id))).toString('utf8')).parts[5].bytes as number;
    expect(counted.bytesRead() - afterHead).toBe(part);
  });

  it('reads a head longer than the first read on to its end, and still only one part besides', async () => {
    const long: CommitOperation[] = Array.from({ length: 40_000 }, (_, i) => ({
      fullKey: `${'k'.repeat(150)}.${i}_${TIME}`,
      logicalKey: `${'k'.repeat(150)}.${i}`,
      version: 1,
      checksum: String(i % 10).repeat(64),
    }));
    const layout = storeLayout(await tempProject(), '.ae');
    await openStore(nodeFs, layout);
    const counted = countingReads();
    const log = new CommitLog(counted.fs, layout);
    const { id, bytes } = log.prepare({ ...record(), operations: long });
    await writeFile(log.pathOf(id), bytes);
    expect(bytes.indexOf('"operations": [')).toBeGreaterThan(64 * 1024);
    expect(await log.operationFor(id, long[31_234]!.fullKey)).toEqual(long[31_234]);
    expect(counted.bytesRead()).toBeLessThan(bytes.length / 10);
  });

  it('refuses a file in parts that is valid JSON but not as the store writes it, under an id of its whole bytes', async () => {
    const { bytes } = await publishLarge();
    const relaid = Buffer.from(JSON.stringify(JSON.parse(bytes.toString('utf8'))));
    const { log, id } = await publish(relaid);
    await expect(log.operationFor(id, many[10]!.fullKey)).rejects.toThrow(/lists parts but is not laid out in parts/);
    await expect(log.read(id)).rejects.toThrow(/lists parts/);
  });
});

/** The store's file system, counting every byte read from files. */
function countingReads(): { fs: StoreFs; bytesRead(): number; opens(): number } {
  let total = 0;
  let opens = 0;
  const base = nodeFs as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const fs = {
    ...base,
    readFile: async (...args: unknown[]) => {
      const bytes = (await base.readFile!(...args)) as Buffer;
      total += bytes.length;
      return bytes;
    },
    open: async (...args: unknown[]) => {
      const handle = (await base.open!(...args)) as { read(...a: unknown[]): Promise<{ bytesRead: number }> };
      opens++;
      const read = handle.read.bind(handle);
      handle.read = async (...a: unknown[]) => {
        const result = await read(...a);
        total += result.bytesRead;
        return result;
      };
      return handle;
    },
  } as unknown as StoreFs;
  return { fs, bytesRead: () => total, opens: () => opens };
}
