import { createLogger, onShutdown } from '@city/platform';
import { readBrokerConfig } from './config.js';
import { startBroker } from './server.js';

const logger = createLogger('broker');
const config = readBrokerConfig();
const running = await startBroker(config, logger);
logger.info({ mqttPort: running.mqttPort, mqttsPort: running.mqttsPort, metricsPort: running.metricsPort }, 'broker listening');

onShutdown(logger, () => running.close());
