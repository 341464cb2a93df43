import { defineProject } from 'vitest/config';
import react from '@vitejs/plugin-react';

// Component tests run in a simulated DOM; the end-to-end tests (test/e2e) run in the node project.
export default defineProject({
  plugins: [react()],
  test: {
    name: 'web',
    environment: 'happy-dom',
    include: ['test/components/**/*.test.{ts,tsx}'],
    setupFiles: ['test/components/setup.ts'],
  },
});
