import { rename, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { IntegrityError } from '../../src/errors.js';
import { openStore } from '../../src/manager/open-store.js';
import { timestampToFileStem } from '../../src/model/keys.js';
import { commitContentHash, encodeRecord, type CommitOperation, type CommitRecord } from '../../src/model/records.js';
import { CommitLog } from '../../src/store/commits.js';
import { nodeFs } from '../../src/store/fs.js';
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
