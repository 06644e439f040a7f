import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn real processes (CLI, crash and concurrency runs); give them room
    // without turning any assertion into a timing check.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Hook approvals of projects outside git go to the per-user config folder:
    // keep the tests' approvals out of the real one.
    env: { XDG_CONFIG_HOME: join(tmpdir(), `ae-state-test-config-${process.pid}`) },
  },
});
