import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The api serves the build at `/` and answers `/api/*`; in development Vite proxies to a running api.
export default defineConfig({
  plugins: [react()],
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 2000, sourcemap: true },
  server: {
    proxy: { '/api': { target: process.env.API_URL ?? 'http://127.0.0.1:8080', ws: true } },
  },
});
