import { createLogger } from '@city/platform';
import { readIngestConfig } from './config.js';
import { startIngest } from './ingest-service.js';

const logger = createLogger('ingest');
const running = await startIngest(readIngestConfig(), logger);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'ingest stopping: flushing what it holds');
    running.close().then(() => process.exit(0));
  });
}
