import { createLogger } from '@city/platform';
import { readBrokerConfig } from './config.js';
import { startBroker } from './server.js';

const logger = createLogger('broker');
const config = readBrokerConfig();
const running = await startBroker(config, logger);
logger.info({ mqttPort: running.mqttPort, mqttsPort: running.mqttsPort, metricsPort: running.metricsPort }, 'broker listening');

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  // Ctrl-C reaches a service twice (from the terminal and from the launcher); the second must not cut the flush short.
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'broker stopping');
    running.close().then(() => process.exit(0));
  });
}
