/**
 * `GET /api/v1/health`: the state of each component the platform depends on, 200 when all are up
 * and 503 naming what is down, so that a load balancer and an operator read the same answer.
 * The broker answering on its port is not enough: the api's own session with it (refused credentials,
 * a session the broker dropped) is what keeps live state, the stream and the rules fed.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { isPortOpen } from '@city/platform';

const ComponentState = Type.Union([Type.Literal('up'), Type.Literal('down')]);
const HealthResponse = Type.Object({
  status: ComponentState,
  components: Type.Object({
    broker: ComponentState,
    mqttSession: Type.Union(ComponentState.anyOf, { description: "the api's own MQTT session, which feeds live state, the stream and the rules" }),
    influxdb: ComponentState,
    registry: ComponentState,
  }),
});

export interface HealthTargets {
  mqttUrl: string;
  influxUrl: string;
  /** Whether the api's MQTT session is connected. */
  mqttSession(): boolean;
  /** Throws when the registry cannot be read. */
  checkRegistry(): void;
}

export function healthRoutes(targets: HealthTargets) {
  return async (app: FastifyInstance) => {
    app.get(
      '/api/v1/health',
      { config: { access: 'public' }, schema: { tags: ['platform'], summary: 'Whether the broker, the api’s MQTT session, InfluxDB and the registry answer', response: { 200: HealthResponse, 503: HealthResponse } } },
      async (_request, reply) => {
        const broker = new URL(targets.mqttUrl);
        const [brokerUp, influxUp] = await Promise.all([
          isPortOpen(Number(broker.port) || 1883, broker.hostname),
          fetch(new URL('/ping', targets.influxUrl), { signal: AbortSignal.timeout(2000) }).then(
            (response) => response.status === 204,
            () => false,
          ),
        ]);
        let registryUp = true;
        try {
          targets.checkRegistry();
        } catch {
          registryUp = false;
        }
        const state = (up: boolean) => (up ? 'up' : 'down') as 'up' | 'down';
        const sessionUp = targets.mqttSession();
        const components = { broker: state(brokerUp), mqttSession: state(sessionUp), influxdb: state(influxUp), registry: state(registryUp) };
        const status = brokerUp && sessionUp && influxUp && registryUp ? 'up' : 'down';
        return reply.code(status === 'up' ? 200 : 503).send({ status, components });
      },
    );
  };
}
