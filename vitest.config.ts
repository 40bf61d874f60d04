import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Each file gets its own process: tests register global providers and bind ports.
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        // In-process tests: no child process, no server, no network.
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], testTimeout: 15_000, hookTimeout: 15_000 },
      },
      {
        extends: true,
        // Child processes, real servers and scrapes, promtool and Prometheus, the OTLP receiver.
        test: { name: 'e2e', include: ['test/e2e/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 },
      },
    ],
  },
});
