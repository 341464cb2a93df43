/**
 * One load device's MQTT connection, optionally from a given local address: one source address gives
 * about 28,000 ephemeral ports towards one broker port, so larger runs spread over several (the whole
 * of 127.0.0.0/8 is local on Linux).
 */
import { createConnection } from 'node:net';
import mqtt, { MqttClient, type IClientOptions } from 'mqtt';

export interface LoadDevice {
  id: string;
  secret: string;
}

export function connectDevice(url: string, device: LoadDevice, localAddress?: string): Promise<MqttClient> {
  const options: IClientOptions = { clientId: device.id, username: device.id, password: device.secret, reconnectPeriod: 0, keepalive: 120, connectTimeout: 60_000 };
  if (!localAddress) return mqtt.connectAsync(url, options);
  const { hostname, port } = new URL(url);
  const client = new MqttClient(() => createConnection({ host: hostname, port: Number(port || 1883), localAddress }), options);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (error) => {
      client.end(true);
      reject(error);
    });
    client.once('close', () => reject(new Error(`connection from ${localAddress} closed before CONNACK`)));
  });
}
