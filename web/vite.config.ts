import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';

const EARLY = 'early';

/**
 * The early requests (src/boot/early.ts) as their own small script, ahead of the bundle in index.html: Vite
 * would fold a second script of the page into the bundle, which is what they must not wait for.
 */
function earlyScript(): Plugin {
  return {
    name: 'city-early-script',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, { bundle }) {
        const chunk = Object.values(bundle ?? {}).find((output) => output.type === 'chunk' && output.isEntry && output.name === EARLY);
        if (!chunk) throw new Error('the early-requests chunk is missing from the build');
        return [{ tag: 'script', attrs: { type: 'module', crossorigin: true, src: `/${chunk.fileName}` }, injectTo: 'head-prepend' }];
      },
    },
  };
}

// The api serves the build at `/` and answers `/api/*`; in development Vite proxies to a running api.
export default defineConfig({
  plugins: [react(), earlyScript()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    sourcemap: true,
    rollupOptions: { input: { index: 'index.html', [EARLY]: 'src/boot/early.ts' } },
  },
  server: {
    proxy: { '/api': { target: process.env.API_URL ?? 'http://127.0.0.1:8080', ws: true } },
  },
});
