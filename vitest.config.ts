import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Tests spawn real processes (CLI, crash and concurrency runs); give them room
    // without turning any assertion into a timing check.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
