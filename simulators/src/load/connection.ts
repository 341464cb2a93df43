/**
 * One load device's MQTT connection, optionally from a given local address: one source address gives
 * about 28,000 ephemeral ports towards one broker port, so larger runs spread over several (the whole
 * of 127.0.0.0/8 is local on Linux). It speaks only what a telemetry device needs (CONNECT, PUBLISH at
 * QoS 0 or 1, PINGREQ, DISCONNECT) on a raw socket, so that a load test measures the platform rather than
 * its client: mqtt.js spent about as much CPU per message as the broker did. The bench's device fleet
 * opens its connections here too, and writes PUBLISHes it built ahead.
 */
import { createConnection, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { deviceTopic } from '@city/devices';
import { PACKET, PacketReader } from '@city/platform';
import { PINGREQ, TopicPublisher, connectPacket, type PublishTemplate } from './wire.js';

export interface LoadDevice {
  id: string;
  secret: string;
}

/**
 * What a connection tells its owner. One listener per connection rather than a callback per message: at
 * tens of thousands of messages a second, a closure each is garbage the generator pays for.
 */
export interface ConnectionListener {
  /** A QoS 1 publish's PUBACK, or a QoS 0 publish written out; `publishedAt` is its `performance.now()`. */
  acknowledged?(publishedAt: number): void;
  /** Publishes the connection lost: still unacknowledged when it closed, or a QoS 0 write that failed. */
  lost?(count: number): void;
  /** The connection closed after the broker had accepted it. */
  closed?(error: Error): void;
}

export interface ConnectOptions {
  localAddress?: string | undefined;
  keepaliveS?: number;
  listener?: ConnectionListener;
}

export interface DeviceConnection {
  publish(payload: string, qos: 0 | 1): void;
  /** Writes a PUBLISH built ahead; at QoS 1 it takes the connection's next packet identifier and counts as in flight. */
  send(template: PublishTemplate): void;
  /** QoS 1 publishes awaiting their PUBACK. */
  readonly inFlight: number;
  /** Bytes written that the kernel has not taken yet: a device this far behind should skip its turn. */
  readonly backlogBytes: number;
  readonly open: boolean;
  end(): Promise<void>;
}

const KEEPALIVE_S = 120;
const CONNECT_TIMEOUT_MS = 60_000;
const DISCONNECT = Buffer.from([0xe0, 0]);

/** The socket, and the event after which it carries MQTT (for TLS, once the handshake is over). */
function openSocket(url: string, localAddress: string | undefined): { socket: Socket; ready: 'connect' | 'secureConnect' } {
  const { protocol, hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, '');
  const address = localAddress ? { localAddress } : {};
  if (protocol === 'mqtts:') return { socket: tlsConnect({ host, port: Number(port || 8883), ...(isIP(host) === 0 && { servername: host }), ...address }), ready: 'secureConnect' };
  return { socket: createConnection({ host, port: Number(port || 1883), ...address }), ready: 'connect' };
}

/**
 * QoS 1 publishes awaiting their PUBACK, as two parallel arrays (identifier, time) rather than an object
 * each. A broker acknowledges QoS 1 in order (MQTT 3.1.1, 4.6), so the match is nearly always the oldest.
 */
class Unacknowledged {
  private readonly ids: number[] = [];
  private readonly times: number[] = [];

  get size(): number {
    return this.ids.length;
  }

  add(id: number, at: number): void {
    this.ids.push(id);
    this.times.push(at);
  }

  /** The publish time of the one with this identifier, removed; undefined for an identifier not in flight. */
  take(id: number): number | undefined {
    const at = this.ids[0] === id ? 0 : this.ids.indexOf(id);
    if (at < 0) return undefined;
    const time = this.times[at];
    if (at === 0) {
      this.ids.shift();
      this.times.shift();
    } else {
      this.ids.splice(at, 1);
      this.times.splice(at, 1);
    }
    return time;
  }

  clear(): number {
    const count = this.ids.length;
    this.ids.length = 0;
    this.times.length = 0;
    return count;
  }
}

export function connectDevice(url: string, device: LoadDevice, options: ConnectOptions = {}): Promise<DeviceConnection> {
  const { socket, ready } = openSocket(url, options.localAddress);
  socket.setNoDelay(true);
  const listener = options.listener ?? {};
  const keepaliveS = options.keepaliveS ?? KEEPALIVE_S;
  const topic = new TopicPublisher(deviceTopic(device.id, 'telemetry'));
  const unacknowledged = new Unacknowledged();
  let nextId = 1;
  let connected = false;
  let closed = false;

  const takeId = () => {
    const id = nextId;
    nextId = id === 65_535 ? 1 : id + 1;
    return id;
  };
  const publishQos0 = (payload: string) => {
    const at = performance.now();
    socket.write(topic.packet(payload, 0, 0), (error) => (error ? listener.lost?.(1) : listener.acknowledged?.(at)));
  };

  const connection: DeviceConnection = {
    publish(payload, qos) {
      if (closed) return listener.lost?.(1);
      if (qos === 0) return publishQos0(payload);
      const id = takeId();
      unacknowledged.add(id, performance.now());
      socket.write(topic.packet(payload, 1, id));
    },
    send(template) {
      if (closed) return;
      const id = template.qos === 1 ? takeId() : 0;
      if (template.qos === 1) unacknowledged.add(id, performance.now());
      socket.write(template.packet(id));
    },
    get inFlight() {
      return unacknowledged.size;
    },
    get backlogBytes() {
      return socket.writableLength;
    },
    get open() {
      return connected && !closed;
    },
    end() {
      return new Promise((resolve) => {
        if (closed) return resolve();
        socket.once('close', () => resolve());
        socket.end(DISCONNECT);
      });
    },
  };

  return new Promise((resolve, reject) => {
    const timeout = setTimeout(() => socket.destroy(new Error(`no CONNACK within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
    const reader = new PacketReader((type, body) => {
      if (type === PACKET.puback) {
        const at = unacknowledged.take(body.readUInt16BE(0));
        if (at !== undefined) listener.acknowledged?.(at);
      } else if (type === PACKET.connack && !connected) {
        clearTimeout(timeout);
        const code = body[1] ?? -1;
        if (code !== 0) return socket.destroy(new Error(`the broker refused ${device.id} (CONNACK return code ${code})`));
        connected = true;
        const ping = setInterval(() => socket.write(PINGREQ), (keepaliveS * 1000) / 2);
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
      closed = true;
      const error = lastError ?? new Error(`${device.id}: connection closed`);
      const lost = unacknowledged.clear();
      if (lost > 0) listener.lost?.(lost);
      if (connected) listener.closed?.(error);
      else reject(error);
    });
    socket.once(ready, () => socket.write(connectPacket({ clientId: device.id, username: device.id, password: device.secret, clean: true, keepaliveS })));
  });
}
