/**
 * The platform the fault suite breaks: the ingest test stack (a local influxd, the broker in this
 * process, ingest as a child process that can be SIGKILLed) with the api beside it, so that a fault
 * can be watched from where operators watch it.
 */
import { createLogger } from '@city/platform';
import { buildApp } from '../../../api/src/app.js';
import { readApiConfig } from '../../../api/src/config.js';
import { startStack, type Stack } from '../../../ingest/test/helpers/stack.js';

export interface Health {
  status: number;
  components: Record<string, 'up' | 'down'>;
}

export interface FaultStack extends Stack {
  apiUrl: string;
  health(): Promise<Health>;
  /** Runs at close once ingest has stopped and before the data dir goes, e.g. to unmount a volume in it. */
  onClose(hook: () => void): void;
}

export async function startFaultStack(env: Record<string, string> = {}): Promise<FaultStack> {
  const stack = await startStack(env);
  const api = await buildApp(
    readApiConfig({
      DATA_DIR: stack.dataDir,
      HTTP_HOST: '127.0.0.1',
      HTTP_PORT: '0',
      MQTT_URL: stack.mqttUrl,
      MQTT_SERVICE_SECRET: stack.serviceSecret,
      INFLUX_URL: stack.influx.url,
      ADMIN_PASSWORD: 'fault-suite-password-1',
    }),
    createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent'),
  );
  await api.listen({ host: '127.0.0.1', port: 0 });
  const apiUrl = `http://127.0.0.1:${(api.server.address() as { port: number }).port}`;
  const hooks: (() => void)[] = [];
  return {
    ...stack,
    apiUrl,
    async health() {
      const response = await fetch(`${apiUrl}/api/v1/health`);
      const body = (await response.json()) as { components: Record<string, 'up' | 'down'> };
      return { status: response.status, components: body.components };
    },
    onClose: (hook) => hooks.push(hook),
    async close() {
      await api.close();
      await stack.killIngest();
      for (const hook of hooks) hook();
      await stack.close();
    },
  };
}
