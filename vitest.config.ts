import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Each file gets its own process: tests register global providers and bind ports.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
});
