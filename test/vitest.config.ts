import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('..', import.meta.url).pathname,
    include: ['test/**/*.spec.ts', 'src/**/*.spec.ts', 'sample/**/*.spec.ts'],
    exclude: ['**/node_modules/**', 'dist/**', 'test/bench/**'],
    setupFiles: ['test/support/setup.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Suites boot real servers; two cores run two files at a time comfortably.
    maxWorkers: 2,
    pool: 'forks',
  },
});
