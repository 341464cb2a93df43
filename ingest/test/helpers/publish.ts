import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import mqtt, { type MqttClient } from 'mqtt';

export const execFileAsync = promisify(execFile);

/** Publishes with Debian's mosquitto_pub, the way a vendor would test a device by hand. */
export function mosquittoPub(url: string, id: string, password: string, topic: string, message: string) {
  const { hostname, port } = new URL(url);
  return execFileAsync('mosquitto_pub', ['-h', hostname, '-p', port, '-i', id, '-u', id, '-P', password, '-q', '1', '-t', topic, '-m', message], {
    timeout: 10_000,
  });
}

export async function connectDevice(url: string, id: string, secret: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId: id, username: id, password: secret, reconnectPeriod: 0, clean: true });
}

/**
 * Publishes `count` readings at QoS 1 with at most `window` unacknowledged, resolving when the broker
 * has acknowledged them all; `make(i)` builds the i-th payload.
 */
export async function publishMany(client: MqttClient, topic: string, count: number, make: (i: number) => object, window = 100, onAck?: (i: number) => void): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await client.publishAsync(topic, JSON.stringify(make(i)), { qos: 1 });
      onAck?.(i);
    }
  };
  await Promise.all(Array.from({ length: window }, worker));
}
