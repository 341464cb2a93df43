import { createLogger, onShutdown } from '@city/platform';
import { readIngestConfig } from './config.js';
import { startIngest } from './ingest-service.js';

const logger = createLogger('ingest');
const running = await startIngest(readIngestConfig(), logger);

onShutdown(logger, () => running.close());
