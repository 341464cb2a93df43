/**
 * MQTT at the TCP level: a bare client that writes whatever bytes it is given (mqtt.js would refuse to
 * send most of what the fuzzer needs), and the malformed-packet attacks themselves — bad remaining
 * lengths, bad protocol names and levels, packets before CONNECT, oversized length prefixes, truncated
 * packets, forbidden topics and random bytes — each with the reason the broker must count it under.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import mqttPacket, { type Packet } from 'mqtt-packet';
import type { SeededRandom } from './seeded-random.js';

export interface RawAttack {
  category: string;
  /** Sent after a successful CONNECT as the attacking device, or on a fresh socket that never connected. */
  authenticated: boolean;
  bytes: Buffer;
  /** The broker must close the connection on its own; otherwise the attacker half-closes once the bytes are out. */
  brokerCloses: boolean;
  /** What the broker must count, once for the connection; undefined where any single connection-level reason will do. */
  expect: { metric: 'mqtt_rejections_total' | 'mqtt_connects_refused_total'; reason: string } | undefined;
}

export interface RawAttackContext {
  deviceId: string;
  /** The broker's MQTT_MAX_PACKET_BYTES. */
  maxPacketBytes: number;
}

const rejection = (reason: string): RawAttack['expect'] => ({ metric: 'mqtt_rejections_total', reason });

export function connectPacket(clientId: string, username?: string, password?: string, protocolVersion: 4 | 5 = 4): Buffer {
  return mqttPacket.generate(
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion,
      clientId,
      clean: true,
      keepalive: 30,
      ...(username === undefined ? {} : { username }),
      ...(password === undefined ? {} : { password: Buffer.from(password) }),
    },
    { protocolVersion },
  );
}

export function publishPacket(topic: string, payload: Buffer, messageId?: number): Buffer {
  return mqttPacket.generate({ cmd: 'publish', topic, payload, qos: messageId === undefined ? 0 : 1, ...(messageId === undefined ? {} : { messageId }), retain: false, dup: false });
}

type Attack = (random: SeededRandom, context: RawAttackContext) => Omit<RawAttack, 'category'>;

const ATTACKS: Record<string, Attack> = {
  bad_remaining_length: () => ({
    authenticated: false,
    // A fifth length byte: the encoding allows four.
    bytes: Buffer.from([0x10, 0x80, 0x80, 0x80, 0x80, 0x01]),
    brokerCloses: true,
    expect: rejection('malformed_length'),
  }),
  oversized_length_prefix: (random) => ({
    authenticated: random.next() < 0.5,
    bytes: Buffer.from([random.pick([0x10, 0x30, 0x32, 0x82]), 0xff, 0xff, 0xff, 0x7f]),
    brokerCloses: true,
    expect: rejection('packet_too_large'),
  }),
  over_size_limit_publish: (random, { deviceId, maxPacketBytes }) => {
    const topic = `devices/${deviceId}/telemetry`;
    const payloadBytes = maxPacketBytes - 4 - topic.length + random.int(1, 64);
    return { authenticated: true, bytes: publishPacket(topic, Buffer.alloc(payloadBytes, 0x20), 1), brokerCloses: true, expect: rejection('packet_too_large') };
  },
  bad_protocol_name: (random) => {
    const bytes = connectPacket('attacker');
    bytes.write(random.pick(['MQTX', 'HTTP', 'mqtt', '\u0000\u0000\u0000\u0000']), 4, 'latin1');
    return { authenticated: false, bytes, brokerCloses: true, expect: rejection('malformed_packet') };
  },
  bad_protocol_level: (random) => {
    if (random.next() < 0.3) return { authenticated: false, bytes: connectPacket('attacker', undefined, undefined, 5), brokerCloses: true, expect: rejection('unsupported_protocol') };
    const bytes = connectPacket('attacker');
    bytes[8] = random.pick([0, 1, 2, 6, 9, 127, 255]);
    return { authenticated: false, bytes, brokerCloses: true, expect: rejection('malformed_packet') };
  },
  before_connect: (random) => ({
    authenticated: false,
    bytes: random.pick([
      publishPacket('devices/x/telemetry', Buffer.from('{}'), 1),
      publishPacket('devices/x/telemetry', Buffer.from('{}')),
      mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: '#', qos: 0 }] }),
      mqttPacket.generate({ cmd: 'pingreq' }),
      mqttPacket.generate({ cmd: 'disconnect' }),
    ]),
    brokerCloses: true,
    expect: rejection('protocol_violation'),
  }),
  second_connect: (_random, { deviceId }) => ({ authenticated: true, bytes: connectPacket(deviceId), brokerCloses: true, expect: rejection('protocol_violation') }),
  malformed_header: (random) => ({
    authenticated: random.next() < 0.5,
    bytes: random.pick([
      Buffer.from([0x00, 0x00]),
      Buffer.from([0xf0, 0x00]),
      Buffer.from([0xc1, 0x00]),
      // QoS 3.
      Buffer.from([0x36, 0x07, 0x00, 0x01, 0x61, 0x00, 0x01, 0x7b, 0x7d]),
      // A topic length running past the packet.
      Buffer.from([0x30, 0x03, 0x00, 0x09, 0x61]),
    ]),
    brokerCloses: true,
    expect: rejection('malformed_packet'),
  }),
  wildcard_topic: (random, { deviceId }) => ({
    authenticated: true,
    bytes: publishPacket(random.pick(['devices/+/telemetry', 'devices/#', '#', `devices/${deviceId}/tele#metry`, `devices/${deviceId}/+`, `${'a/'.repeat(150)}b`]), Buffer.from('{}'), 1),
    brokerCloses: true,
    expect: rejection('invalid_topic'),
  }),
  truncated_packet: (random, { deviceId }) => {
    const authenticated = random.next() < 0.5;
    const whole = authenticated ? publishPacket(`devices/${deviceId}/telemetry`, Buffer.from('{"LAeq":50,"LAmax":60}'), 1) : connectPacket(deviceId, deviceId, 'secret');
    return { authenticated, bytes: whole.subarray(0, random.int(1, whole.length - 1)), brokerCloses: false, expect: rejection('truncated_packet') };
  },
  injected_credentials: (random) => {
    const name = random.pick(['dn,zone=x y=1', 'a\nb', 'service:ingest', 'service:', "' OR 1=1 --", '../../registry', 'x'.repeat(300)]);
    return { authenticated: false, bytes: connectPacket(name.slice(0, 64), name, random.pick(['', 'x', '\u0000'])), brokerCloses: true, expect: { metric: 'mqtt_connects_refused_total', reason: 'bad_credentials' } };
  },
  random_bytes: (random) => ({ authenticated: false, bytes: random.bytes(random.int(1, 256)), brokerCloses: false, expect: undefined }),
};

export const RAW_ATTACK_CATEGORIES = Object.keys(ATTACKS);

export function rawAttack(random: SeededRandom, context: RawAttackContext): RawAttack {
  const category = random.pick(RAW_ATTACK_CATEGORIES);
  return { category, ...(ATTACKS[category] as Attack)(random, context) };
}

/** A bare MQTT 3.1.1 connection: QoS 1 publishes resolve on their PUBACK, in any number at once. */
export class RawMqttClient {
  private readonly parser = mqttPacket.parser({ protocolVersion: 4 });
  private readonly pending = new Map<number, { resolve(): void; reject(error: Error): void }>();
  private nextId = 1;
  private connack: ((code: number) => void) | undefined;
  readonly closed: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.parser.on('packet', (packet: Packet) => {
      if (packet.cmd === 'connack') this.connack?.(packet.returnCode ?? 0);
      else if ((packet.cmd === 'puback' || packet.cmd === 'suback') && packet.messageId !== undefined) {
        this.pending.get(packet.messageId)?.resolve();
        this.pending.delete(packet.messageId);
      }
    });
    socket.on('data', (chunk: Buffer) => this.parser.parse(chunk));
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        for (const { reject } of this.pending.values()) reject(new Error('connection closed before the PUBACK'));
        this.pending.clear();
        resolve();
      }),
    );
  }

  static open(port: number, host = '127.0.0.1'): Promise<RawMqttClient> {
    return new Promise((resolve, reject) => {
      const socket = connectTcp({ port, host });
      socket.once('connect', () => resolve(new RawMqttClient(socket)));
      socket.once('error', reject);
    });
  }

  /** Connects as a device (or, with a user name, as a service); rejects unless the broker accepts. */
  static async connect(port: number, clientId: string, secret: string, username = clientId): Promise<RawMqttClient> {
    const client = await RawMqttClient.open(port);
    const code = await new Promise<number>((resolve) => {
      client.connack = resolve;
      client.socket.write(connectPacket(clientId, username, secret));
      void client.closed.then(() => resolve(-1));
    });
    if (code !== 0) {
      client.socket.destroy();
      throw new Error(`CONNECT as ${username} refused (${code})`);
    }
    return client;
  }

  /** Subscribes and resolves once the broker granted the subscription. */
  subscribe(topic: string, qos: 0 | 1): Promise<void> {
    const messageId = this.allocateId();
    return new Promise((resolve, reject) => {
      this.pending.set(messageId, { resolve, reject });
      this.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId, subscriptions: [{ topic, qos }] }));
    });
  }

  /** Publishes at QoS 1 and resolves on the PUBACK; rejects if the connection closes first. */
  publish(topic: string, payload: Buffer): Promise<void> {
    const messageId = this.allocateId();
    if (this.socket.destroyed) return Promise.reject(new Error('connection closed before the PUBACK'));
    return new Promise((resolve, reject) => {
      this.pending.set(messageId, { resolve, reject });
      this.socket.write(publishPacket(topic, payload, messageId));
    });
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    return id;
  }

  async disconnect(): Promise<void> {
    if (!this.socket.destroyed) this.socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
    await this.closed;
  }
}
