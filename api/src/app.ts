/**
 * The operations API: builds the app and the services behind it (database, registry, live state,
 * rules, stream) from configuration. `index.ts` only listens.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { DeviceRegistry, loadZones } from '@city/devices';
import { createMetricsRegistry, type InfluxqlTarget, type Logger } from '@city/platform';
import { AUDIT_SCHEMA, AuditLog } from './audit.js';
import { auditRoutes } from './audit-routes.js';
import { authPlugin } from './auth/auth-plugin.js';
import { authRoutes } from './auth/auth-routes.js';
import { ensureFirstAdmin } from './auth/first-admin.js';
import { LoginThrottle } from './auth/login-throttle.js';
import { SESSIONS_SCHEMA, SessionStore } from './auth/sessions.js';
import { userRoutes } from './auth/user-routes.js';
import { USERS_SCHEMA, UserStore } from './auth/users.js';
import { cutConnectionsAfterGrace } from './close-grace.js';
import type { ApiConfig } from './config.js';
import { openDatabase } from './database.js';
import { deviceRoutes } from './devices/routes.js';
import { docsRoutes } from './docs.js';
import { answerClientError, installErrorHandler } from './errors.js';
import { healthRoutes } from './health.js';
import { httpSecurity, parseOrigins } from './http-security.js';
import { historyRoutes } from './history/routes.js';
import { IncidentStore, INCIDENTS_SCHEMA } from './incidents/incident-store.js';
import { incidentRoutes } from './incidents/routes.js';
import { layerRoutes } from './layers/routes.js';
import { LiveState } from './live/live-state.js';
import { startMqttFeed, type MqttFeed } from './live/mqtt-feed.js';
import { restoreLiveState } from './live/restore.js';
import { RoadNetwork } from './live/road-network.js';
import { createApiMetrics } from './metrics.js';
import { loadRulesConfig, zoneRules } from './rules/rules-config.js';
import { RuleEngine } from './rules/rule-engine.js';
import { sensorFloodLevels } from './rules/thresholds.js';
import { StreamSessionGuard } from './stream/session-guard.js';
import { StreamHub } from './stream/stream-hub.js';
import { streamRoutes } from './stream/routes.js';
import { webRoutes } from './web.js';

/** How often the registry is re-read for devices added or removed by the CLI, and the rules' clock ticks. */
const REGISTRY_SYNC_MS = 10_000;
const RULES_TICK_MS = 5_000;
/** The largest request body any route takes (a device with its attributes, an incident note); routes that need less say so. */
export const BODY_LIMIT_BYTES = 64 * 1024;

export interface ApiServices {
  live: LiveState;
  incidents: IncidentStore;
  rules: RuleEngine;
  users: UserStore;
  registry: DeviceRegistry;
  /** Resolves once live state has been seeded from InfluxDB (or that failed and was logged). */
  restored: Promise<void>;
}

declare module 'fastify' {
  interface FastifyInstance {
    services: ApiServices;
  }
}

export async function buildApp(config: ApiConfig, logger: Logger): Promise<FastifyInstance> {
  const dataDir = resolve(config.DATA_DIR);
  const app = Fastify({
    loggerInstance: logger.child({}, { serializers: { req: (request: { method: string; url: string }) => ({ method: request.method, url: request.url.replace(/access_token=[^&]*/, 'access_token=[redacted]') }) } }) as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    // A client gets this long to send its whole request, so that slow senders cannot hold connections open.
    requestTimeout: 30_000,
    clientErrorHandler: answerClientError,
    trustProxy: false,
  }).withTypeProvider<TypeBoxTypeProvider>();
  const webDir = existsSync(join(config.WEB_DIR, 'index.html')) ? config.WEB_DIR : undefined;
  installErrorHandler(app, { spaIndex: webDir !== undefined });

  const db = openDatabase(join(dataDir, 'api.db'), [USERS_SCHEMA, SESSIONS_SCHEMA, AUDIT_SCHEMA, INCIDENTS_SCHEMA]);
  const registry = DeviceRegistry.open(join(dataDir, 'registry.db'));
  const zones = config.ZONES_FILE ? loadZones(config.ZONES_FILE) : loadZones();
  const roads = RoadNetwork.load(config.ROADS_FILE);
  const rulesConfig = loadRulesConfig(config.RULES_FILE, zones.zones.map((zone) => zone.id));
  const audit = new AuditLog(db);
  const users = new UserStore(db);
  const sessions = new SessionStore(db, { idleMs: config.SESSION_IDLE_HOURS * 3_600_000, maxAgeMs: config.SESSION_MAX_HOURS * 3_600_000 });
  await ensureFirstAdmin(users, audit, { password: config.ADMIN_PASSWORD, passwordFile: join(dataDir, 'admin-password'), logger });

  const live = new LiveState({ roads, floodThresholds: (device) => sensorFloodLevels(device.attributes, zoneRules(rulesConfig, device.zone).flood) });
  const incidents = new IncidentStore(db, { logger: logger.child({ component: 'incidents' }) });
  const rules = new RuleEngine({ config: rulesConfig, store: incidents, logger: logger.child({ component: 'rules' }), segmentReading: (id) => {
    const state = live.segmentState(id);
    return state?.averageVehicleSpeed !== undefined && state.occupancy !== undefined ? { speed: state.averageVehicleSpeed, occupancy: state.occupancy } : undefined;
  } });
  const openIncidents = () => incidents.active();
  const hub = new StreamHub({
    devices: () => live.devices.values(),
    device: (id) => live.devices.get(id),
    segments: () => roads.segments.keys(),
    segment: (id) => live.segmentState(id),
    incidents: openIncidents,
  });
  live.onChange((device, change, event) => {
    hub.deviceChanged(device, change);
    const now = Date.now();
    if (change === 'reading' || change === 'meta') rules.observe(device, now);
    else if (change === 'presence') rules.presence(device, now);
    else if (change === 'event' && event) rules.event(device, event);
    else if (change === 'removed') rules.forget(device.id);
  });
  incidents.onChange((incident) => hub.incidentChanged(incident));
  const streamSessions = new StreamSessionGuard(sessions, config.STREAM_SESSION_CHECK_SECONDS * 1000);
  live.syncRegistry(registry.list());

  const metricsRegistry = createMetricsRegistry('api');
  const metrics = createApiMetrics(metricsRegistry, {
    devices: () => live.devices.size,
    online: () => [...live.devices.values()].filter((device) => device.presence === 'online').length,
    streamClients: () => hub.stats.clients,
    openIncidents: () => openIncidents().length,
  });
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.observe({ method: request.method, route: request.routeOptions.url ?? 'unknown', status: reply.statusCode }, reply.elapsedTime / 1000);
  });

  const influx: InfluxqlTarget = { url: config.INFLUX_URL, username: config.INFLUX_USERNAME, password: config.INFLUX_PASSWORD, token: config.INFLUX_TOKEN };
  let lastUnknownSync = 0;
  const feed: MqttFeed = startMqttFeed({
    url: config.MQTT_URL,
    serviceSecret: config.MQTT_SERVICE_SECRET,
    live,
    logger: logger.child({ component: 'mqtt' }),
    onMessage: () => metrics.mqttMessages.inc(),
    onUnknownDevice: () => {
      // A device provisioned by the CLI a moment ago: pick it up now rather than at the next sync.
      if (Date.now() - lastUnknownSync < 2000) return;
      lastUnknownSync = Date.now();
      live.syncRegistry(registry.list());
    },
  });
  const restored = restoreLiveState(live, influx, config.INFLUX_DB, logger).catch((error: Error) =>
    logger.warn({ err: error.message }, 'could not restore live state from InfluxDB; it fills as readings arrive'),
  );
  const syncTimer = setInterval(() => live.syncRegistry(registry.list()), REGISTRY_SYNC_MS);
  const ruleTimer = setInterval(() => rules.tick(Date.now()), RULES_TICK_MS);
  syncTimer.unref();
  ruleTimer.unref();

  app.decorate('services', { live, incidents, rules, users, registry, restored });
  app.addHook('preClose', (done) => {
    cutConnectionsAfterGrace(app.server, logger);
    done();
  });
  app.addHook('onClose', async () => {
    clearInterval(syncTimer);
    clearInterval(ruleTimer);
    rules.close();
    streamSessions.close();
    hub.close();
    await feed.close();
    registry.close();
    db.close();
  });

  await app.register(httpSecurity, { corsOrigins: parseOrigins(config.CORS_ORIGINS) });
  await app.register(docsRoutes);
  await app.register(authPlugin, { sessions });
  await app.register(healthRoutes({ mqttUrl: config.MQTT_URL, influxUrl: config.INFLUX_URL, mqttSession: () => feed.connected, checkRegistry: () => registry.get('health-check') }));
  await app.register(authRoutes({ users, sessions, audit, throttle: new LoginThrottle(), loginsPerMinute: config.LOGINS_PER_MINUTE }));
  await app.register(userRoutes({ users, sessions, audit }));
  await app.register(auditRoutes({ audit, registry }));
  await app.register(deviceRoutes({ registry, live, audit }));
  await app.register(layerRoutes({ live, roads, zones, openIncidents }));
  await app.register(streamRoutes(hub, streamSessions));
  await app.register(incidentRoutes({ store: incidents, audit, zoneAt: (lon, lat) => zones.zoneAt(lon, lat)?.id }));
  await app.register(historyRoutes({ influx, database: config.INFLUX_DB, maxPoints: config.HISTORY_MAX_POINTS, devicesOnSegment: (id) => live.devicesOnSegment(id) }));
  app.get('/metrics', { config: { access: 'public' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type(metricsRegistry.contentType).send(await metricsRegistry.metrics()),
  );
  await app.register(webRoutes(webDir));
  return app;
}
