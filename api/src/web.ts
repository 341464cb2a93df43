/**
 * Serves the built console (`web/dist`) at `/`, with unknown non-API paths answered by its index.html so
 * that the console's own routes survive a reload. Before the console is built, `/` says so and links the docs.
 */
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

const NOT_BUILT = `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>Trung tâm điều hành / Operations centre</title></head>
<body style="font-family:sans-serif;background:#111;color:#eee;padding:2rem">
<h1>Trung tâm điều hành đô thị / City operations centre</h1>
<p>Bảng điều khiển chưa được dựng (<code>npm run build -w web</code>). / The console is not built yet (<code>npm run build -w web</code>).</p>
<p><a style="color:#8cf" href="/docs">API: tài liệu / reference</a> · <a style="color:#8cf" href="/api/v1/health">/api/v1/health</a></p>
</body></html>`;

export function webRoutes(webDir: string | undefined) {
  return async (app: FastifyInstance) => {
    if (!webDir) {
      app.get('/', { schema: { hide: true }, config: { access: 'public' } }, async (_request, reply) => reply.type('text/html; charset=utf-8').send(NOT_BUILT));
      return;
    }
    await app.register(fastifyStatic, { root: webDir, prefix: '/', wildcard: false, index: 'index.html' });
    app.get('/*', { schema: { hide: true }, config: { access: 'public' } }, async (request, reply) => {
      if (request.url.startsWith('/api/')) {
        return reply.code(404).send({ statusCode: 404, error: 'Not Found', code: 'not_found', message: `no route GET ${request.url.split('?')[0]}` });
      }
      return reply.sendFile('index.html');
    });
  };
}
