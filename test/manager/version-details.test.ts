import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager, InvalidArgumentError, InvalidKeyError } from '../../src/index.js';
import { tempProject } from '../helpers.js';

describe('getVersionPage', () => {
  it('pages a key newest first, with the commit of each version and its bytes on disk', async () => {
    const root = await tempProject();
    const m = new EnhancedStateManager(root, { gcInterval: 0, compressionThreshold: 10 });
    for (let n = 1; n <= 5; n++) await m.saveSSOT('spec', { n, text: 'x'.repeat(n * 20) });
    const first = await m.getVersionPage('spec', 0, 2);
    expect(first.total).toBe(5);
    expect(first.versions.map((v) => v.version)).toEqual([5, 4]);
    expect((await m.getVersionPage('spec', 4, 2)).versions.map((v) => v.version)).toEqual([1]);
    expect((await m.getVersionPage('spec', 10, 2)).versions).toEqual([]);

    const newest = first.versions[0]!;
    const log = await m.getLog();
    expect(newest.commit).toBe(log[0]!.id);
    const object = join(m.storeDirectory, 'objects', newest.checksum.slice(0, 2), newest.checksum.slice(2));
    expect(newest.storedBytes).toBe((await stat(object)).size);
    expect(newest.compressed).toBe(true);
    expect((await m.getVersionPage('missing', 0, 10)).total).toBe(0);
    await expect(m.getVersionPage('spec', -1, 2)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(m.getVersionPage('a/b', 0, 2)).rejects.toBeInstanceOf(InvalidKeyError);
    await m.shutdown();
  });
});
