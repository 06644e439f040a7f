import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/manager/EnhancedStateManager.js';
import { runCli, tempProject } from '../helpers.js';

describe('ae-state save', () => {
  it('prints the version its own save got, also when other processes save the key at the same time', async () => {
    const root = await tempProject();
    const file = join(root, 'doc.json');
    await writeFile(file, '{"same": "content"}');
    const results = await Promise.all(Array.from({ length: 8 }, () => runCli(['save', '-k', 'spec', '-i', file, '--json'], { cwd: root })));
    // Fewer saves than maxVersions (10), so every one is still listed afterwards.
    const printed = results.map((r) => JSON.parse(r.stdout) as { key: string; version: number });
    const m = new EnhancedStateManager(root, { gcInterval: 0, maxVersions: 100 });
    const byKey = new Map((await m.getVersions('spec')).map((v) => [v.key, v.version]));
    for (const { key, version } of printed) expect(version).toBe(byKey.get(key));
    expect(new Set(printed.map((p) => p.version)).size).toBe(8);
    await m.shutdown();
  }, 60_000);
});
