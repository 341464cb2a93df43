/** The api's Prometheus metrics, served at `/metrics` beside the default process metrics. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export type ApiMetrics = ReturnType<typeof createApiMetrics>;

export function createApiMetrics(registry: Registry, sources: { devices(): number; online(): number; streamClients(): number; openIncidents(): number }) {
  return {
    requests: new Histogram({
      name: 'api_request_duration_seconds',
      help: 'HTTP requests by route and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [registry],
    }),
    mqttMessages: new Counter({ name: 'api_mqtt_messages_total', help: 'Messages received from the broker (telemetry, status, events)', registers: [registry] }),
    devices: new Gauge({ name: 'api_live_devices', help: 'Devices in live state', registers: [registry], collect() { this.set(sources.devices()); } }),
    online: new Gauge({ name: 'api_live_devices_online', help: 'Devices whose presence is online', registers: [registry], collect() { this.set(sources.online()); } }),
    streamClients: new Gauge({ name: 'api_stream_clients', help: 'Open WebSocket stream clients', registers: [registry], collect() { this.set(sources.streamClients()); } }),
    openIncidents: new Gauge({ name: 'api_incidents_open', help: 'Incidents open or acknowledged', registers: [registry], collect() { this.set(sources.openIncidents()); } }),
  };
}
