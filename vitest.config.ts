import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // A condition polled through a real browser and platform: on a loaded 2-core box a second is not enough to wait.
    expect: { poll: { timeout: 10_000 } },
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
