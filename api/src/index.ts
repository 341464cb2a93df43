import { createLogger } from '@city/platform';
import { buildApp } from './app.js';
import { readApiConfig } from './config.js';

const logger = createLogger('api');
const config = readApiConfig();
const app = await buildApp(config, logger);
await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Ctrl-C reaches a service twice (from the terminal and from the launcher); the second must not cut the flush short.
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.close().then(() => process.exit(0));
  });
}
