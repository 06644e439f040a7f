import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DESCRIPTOR_LIMIT, withDescriptor } from '../../src/store/descriptor-pool.js';
import { FIXTURES, run, tempProject } from '../helpers.js';

/** Runs one bulk path in a child process limited to 256 open descriptors, as macOS is by default. */
async function runUnder256(mode: string, count: number): Promise<unknown> {
  const root = join(await tempProject(), 'store');
  const script = join(FIXTURES, 'bulk-paths.mjs');
  const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
  const stdout = await run('sh', ['-c', `ulimit -n 256 && exec ${quote(process.execPath)} ${quote(script)} ${quote(root)} ${mode} ${count}`]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe('bounded file descriptors', () => {
  it('never runs more than DESCRIPTOR_LIMIT descriptor holders at once', async () => {
    let open = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: DESCRIPTOR_LIMIT * 5 }, () =>
        withDescriptor(async () => {
          most = Math.max(most, ++open);
          await new Promise((resolve) => setImmediate(resolve));
          open--;
        }),
      ),
    );
    expect(most).toBe(DESCRIPTOR_LIMIT);
  });

  it('passes a permit on when the work fails', async () => {
    const failures = Array.from({ length: DESCRIPTOR_LIMIT * 2 }, () => withDescriptor(() => Promise.reject(new Error('boom'))));
    for (const failure of failures) await expect(failure).rejects.toThrow('boom');
    await expect(withDescriptor(async () => 'still served')).resolves.toBe('still served');
  });

  it('imports a 20,000-version JSON backup under ulimit -n 256', async () => {
    expect(await runUnder256('json-import', 20_000)).toEqual({ published: 20_000 });
  }, 240_000);

  it('imports a 20,000-entry snapshot tar under ulimit -n 256', async () => {
    expect(await runUnder256('tar-import', 20_000)).toEqual({ published: 20_000 });
  }, 240_000);

  it('commits a 5,000-save transaction under ulimit -n 256', async () => {
    expect(await runUnder256('transaction', 5_000)).toEqual({ committed: 5_000 });
  }, 240_000);

  it('runs 5,000 concurrent saveSSOT calls under ulimit -n 256', async () => {
    expect(await runUnder256('concurrent-saves', 5_000)).toEqual({ saved: 5_000 });
  }, 240_000);

  it('exports, collects garbage and checks a 20,000-version store under ulimit -n 256', async () => {
    expect(await runUnder256('export-gc-fsck', 20_000)).toEqual({ exported: 20_000, gcRan: true, fsckOk: true });
  }, 240_000);
});
