/**
 * One load device's MQTT connection, optionally from a given local address: one source address gives
 * about 28,000 ephemeral ports towards one broker port, so larger runs spread over several (the whole
 * of 127.0.0.0/8 is local on Linux). It speaks only what a telemetry device needs (CONNECT, PUBLISH at
 * QoS 0 or 1, PINGREQ, DISCONNECT) on a raw socket, so that a load test measures the platform rather than
 * its client: mqtt.js spent about as much CPU per message as the broker did.
 */
import { createConnection, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { PACKET, PINGREQ, PacketReader, TopicPublisher, connectPacket } from './wire.js';

export interface LoadDevice {
  id: string;
  secret: string;
}

export interface DeviceConnection {
  /** Publishes a telemetry payload; `done` runs at the PUBACK (QoS 1), once written (QoS 0), or with the error that lost it. */
  publish(payload: string, qos: 0 | 1, done: (error?: Error) => void): void;
  end(): Promise<void>;
}

const KEEPALIVE_S = 120;
const CONNECT_TIMEOUT_MS = 60_000;
const DISCONNECT = Buffer.from([0xe0, 0]);

interface Unacknowledged {
  id: number;
  done: (error?: Error) => void;
}

/** The socket, and the event after which it carries MQTT (for TLS, once the handshake is over). */
function openSocket(url: string, localAddress: string | undefined): { socket: Socket; ready: 'connect' | 'secureConnect' } {
  const { protocol, hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const address = localAddress ? { localAddress } : {};
  if (protocol === 'mqtts:') return { socket: tlsConnect({ host, port: Number(port || 8883), ...(isIP(host) === 0 && { servername: host }), ...address }), ready: 'secureConnect' };
  return { socket: createConnection({ host, port: Number(port || 1883), ...address }), ready: 'connect' };
}

export function connectDevice(url: string, device: LoadDevice, localAddress?: string): Promise<DeviceConnection> {
  const { socket, ready } = openSocket(url, localAddress);
  socket.setNoDelay(true);
  const topic = new TopicPublisher(`devices/${device.id}/telemetry`);
  const unacknowledged: Unacknowledged[] = [];
  let nextId = 1;
  let closed: Error | undefined;

  const connection: DeviceConnection = {
    publish(payload, qos, done) {
      if (closed) return done(closed);
      if (qos === 0) {
        socket.write(topic.packet(payload, 0, 0), (error) => done(error ?? undefined));
        return;
      }
      const id = nextId;
      nextId = id === 65_535 ? 1 : id + 1;
      unacknowledged.push({ id, done });
      socket.write(topic.packet(payload, 1, id));
    },
    end() {
      return new Promise((resolve) => {
        if (closed) return resolve();
        socket.once('close', () => resolve());
        socket.end(DISCONNECT);
      });
    },
  };

  // A broker acknowledges QoS 1 in order (MQTT 3.1.1, 4.6), so the match is nearly always the oldest.
  const acknowledge = (id: number) => {
    const at = unacknowledged.findIndex((entry) => entry.id === id);
    if (at >= 0) unacknowledged.splice(at, 1)[0]?.done();
  };

  return new Promise((resolve, reject) => {
    let connected = false;
    const timeout = setTimeout(() => socket.destroy(new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    const reader = new PacketReader((type, body) => {
      if (type === PACKET.puback) acknowledge(body.readUInt16BE(0));
      else if (type === PACKET.connack && !connected) {
        clearTimeout(timeout);
        const code = body[1] ?? -1;
        if (code !== 0) return socket.destroy(new Error(`the broker refused ${device.id} (CONNACK return code ${code})`));
        connected = true;
        const ping = setInterval(() => socket.write(PINGREQ), (KEEPALIVE_S * 1000) / 2);
        ping.unref();
        socket.once('close', () => clearInterval(ping));
        resolve(connection);
      }
    });
    let lastError: Error | undefined;
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.on('error', (error) => (lastError = error));
    socket.on('close', () => {
      clearTimeout(timeout);
      closed = lastError ?? new Error(`${device.id}: connection closed`);
      for (const entry of unacknowledged.splice(0)) entry.done(closed);
      if (!connected) reject(closed);
    });
    socket.once(ready, () =>
      socket.write(connectPacket({ clientId: device.id, username: device.id, password: device.secret, clean: true, keepaliveS: KEEPALIVE_S })),
    );
  });
}
