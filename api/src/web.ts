/**
 * Serves the built console (`web/dist`) at `/`; unknown non-API paths get its index.html (see the not-found
 * handler in errors.ts) so that the console's own routes survive a reload. Before the console is built,
 * `/` says so and links the docs.
 */
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

const NOT_BUILT = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Trung tâm điều hành / Operations centre</title></head>
<body style="font-family:sans-serif;background:#111;color:#eee;padding:2rem">
<h1>Trung tâm điều hành đô thị / City operations centre</h1>
<p>Bảng điều khiển chưa được dựng (<code>npm run build -w web</code>). / The console is not built yet (<code>npm run build -w web</code>).</p>
<p><a style="color:#8cf" href="/docs">API: tài liệu / reference</a> · <a style="color:#8cf" href="/api/v1/health">/api/v1/health</a></p>
</body></html>`;

export function webRoutes(webDir: string | undefined) {
  // Not encapsulated: the app-wide not-found handler answers the console's own paths with reply.sendFile.
  return fp(async (app: FastifyInstance) => {
    if (!webDir) {
      app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
      return;
    }
    // Files are looked up at each request, so a rebuilt console is served without restarting the api.
    await app.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: true, index: 'index.html' });
    // The build names each asset by its content, so a browser may keep one for good: a reload at the operations
    // centre then asks only for index.html, and the map's fonts, which the page has already loaded, are not
    // asked again. index.html itself stays revalidated, so a rebuilt console is seen at the next load.
    await app.register(fastifyStatic, { root: join(webDir, 'assets'), prefix: '/assets/', wildcard: true, decorateReply: false, maxAge: '365d', immutable: true });
  });
}
