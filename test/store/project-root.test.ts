import { describe, expect, it } from 'vitest';
import { EnhancedStateManager } from '../../src/index.js';
import { assertUsableProjectRoot } from '../../src/store/project-root.js';
import { tempProject } from '../helpers.js';

describe('project root', () => {
  it('refuses a root that is not an ordinary writable directory, at once and with the reason', async () => {
    for (const [root, reason] of [['/proc/1', /proc pseudo file system/], ['/etc/hostname', /is not a directory/], ['/dev/null', /is not a directory/]] as const) {
      const m = new EnhancedStateManager(root, { gcInterval: 0 });
      await expect(m.loadSSOT('x')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(reason) });
      await m.shutdown();
    }
  });

  it('accepts an ordinary directory', async () => {
    expect(() => assertUsableProjectRoot(process.cwd())).not.toThrow();
    const m = new EnhancedStateManager(await tempProject(), { gcInterval: 0 });
    await m.saveSSOT('x', { a: 1 });
    expect(await m.loadSSOT('x')).toEqual({ a: 1 });
    await m.shutdown();
  });
});
