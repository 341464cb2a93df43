import { createLogger } from '@city/platform';
import { readIngestConfig } from './config.js';
import { startIngest } from './ingest-service.js';

const logger = createLogger('ingest');
const running = await startIngest(readIngestConfig(), logger);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Ctrl-C reaches a service twice (from the terminal and from the launcher); the second must not cut the flush short.
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'ingest stopping: flushing what it holds');
    running.close().then(() => process.exit(0));
  });
}
