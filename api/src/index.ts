import { createLogger, onShutdown } from '@city/platform';
import { buildApp } from './app.js';
import { readApiConfig } from './config.js';

const logger = createLogger('api');
const config = readApiConfig();
const app = await buildApp(config, logger);
await app.listen({ host: config.HTTP_HOST, port: config.HTTP_PORT });

onShutdown(logger, () => app.close());
