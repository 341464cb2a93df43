export { createLogger, type Logger } from './logger.js';
export { readConfig, ConfigError } from './env-config.js';
export { createMetricsRegistry, startMetricsServer, type MetricsServer } from './metrics-server.js';
export { waitFor, waitForPort, isPortOpen } from './wait-for.js';
export { startInfluxd, InfluxPortInUseError, type LocalInfluxd, type InfluxdOptions } from './influxd.js';
export { onShutdown } from './shutdown.js';
export { influxQuery, InfluxQueryError, type InfluxqlTarget, type Row } from './influxql.js';
export { startRedisServer, RedisPortInUseError, type LocalRedis, type RedisServerOptions } from './redis-server.js';
export { childServer, type ChildServer, type ChildServerOptions } from './child-server.js';
