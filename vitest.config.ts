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
    // Three files at a time, whatever the core count: vitest's default (one fewer
    // worker than cores) runs one file at a time on a two-core machine, while
    // most of a file's time here waits on child processes, fsyncs and git
    // (measured on two cores: 565 s one at a time against 315 s two at a time in one hour; 502 s two at a time against 432 s three at a time in a slower one).
    maxWorkers: 3,
    // Hook approvals of projects outside git go to the per-user config folder:
    // keep the tests' approvals out of the real one.
    env: { XDG_CONFIG_HOME: join(tmpdir(), `ae-state-test-config-${process.pid}`) },
  },
});
