export { createLogger, type Logger } from './logger.js';
export { readConfig, ConfigError } from './env-config.js';
