import { createLogger } from '@city/platform';
import { readBrokerConfig } from './config.js';
import { startBroker } from './server.js';

const logger = createLogger('broker');
const config = readBrokerConfig();
const running = await startBroker(config, logger);
logger.info({ mqttPort: running.mqttPort, mqttsPort: running.mqttsPort, metricsPort: running.metricsPort }, 'broker listening');

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'broker stopping');
    running.close().then(() => process.exit(0));
  });
}
