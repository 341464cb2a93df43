import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: { name: 'node', include: ['*/test/**/*.test.ts'], exclude: ['**/node_modules/**', 'web/test/components/**'] },
      },
      // The console's component tests run in a simulated DOM with its own Vite config.
      'web/vitest.config.ts',
    ],
  },
});
