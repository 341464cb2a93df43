import { Counter, Gauge, type Registry } from 'prom-client';

export type BrokerMetrics = ReturnType<typeof createBrokerMetrics>;

export function createBrokerMetrics(registry: Registry) {
  return {
    connections: new Gauge({ name: 'mqtt_connections', help: 'Open MQTT client connections', labelNames: ['type'], registers: [registry] }),
    connectsRefused: new Counter({
      name: 'mqtt_connects_refused_total',
      help: 'CONNECTs refused, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    messagesIn: new Counter({ name: 'mqtt_messages_in_total', help: 'PUBLISH packets accepted from clients', registers: [registry] }),
    messagesOut: new Counter({ name: 'mqtt_messages_out_total', help: 'PUBLISH packets delivered to subscribers', registers: [registry] }),
    rejections: new Counter({
      name: 'mqtt_rejections_total',
      help: 'Packets dropped or connections cut by the broker, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
