/**
 * A minimal MQTT 3.1.1 subscriber that acknowledges QoS 1 messages when the caller says so.
 *
 * mqtt.js sends a PUBACK only after its message handler finishes and handles the next packet only
 * after that, so holding an ack until a batch is durable would process one message per flush. Here a
 * message is acked after its batch reached InfluxDB or the spool, while thousands of others are in
 * flight. Unacked messages of a persistent session are redelivered by the broker after a reconnect. What comes
 * from the broker is read with @city/platform's PacketReader (mqtt-packet's parser cost more per message than
 * validating the reading); mqtt-packet still builds the few packets sent other than PUBACKs.
 */
import { EventEmitter } from 'node:events';
import { connect as connectTcp, type Socket } from 'node:net';
import { connect as connectTls, type ConnectionOptions } from 'node:tls';
import mqttPacket from 'mqtt-packet';
import { MalformedPacketError, PACKET, PacketReader, decodePublish, type Logger } from '@city/platform';
import { PubackQueue } from './puback-queue.js';

export interface SessionOptions {
  host: string;
  port: number;
  tls?: ConnectionOptions;
  clientId: string;
  username: string;
  password: string;
  subscriptions: { topic: string; qos: 0 | 1 }[];
  keepaliveSeconds?: number;
  /** Stop reading from the socket while this many messages wait for their ack. */
  maxUnacked?: number;
  minReconnectMs?: number;
  maxReconnectMs?: number;
  logger: Logger;
}

export interface InboundMessage {
  /** The topic and payload are the handler's to read during its call only (copy what it keeps). */
  readonly topic: string;
  readonly payload: Buffer;
  /** Acknowledge to the broker; a no-op if the connection it came on is gone (the broker will redeliver). */
  ack(): void;
}

interface SessionEvents {
  message: [InboundMessage];
  connected: [{ sessionPresent: boolean }];
  subscribed: [];
  disconnected: [Error | undefined];
}

const CONNACK_REASONS = ['', 'unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad user name or password', 'not authorized'];
const SUBACK_FAILURE = 0x80;

const NO_PAYLOAD = Buffer.alloc(0);

/** A message as handed on: an object of a class rather than one with an `ack` closure, since there is one per message. */
class Delivery implements InboundMessage {
  private acked = false;

  constructor(
    public topic: string,
    public payload: Buffer,
    private readonly messageId: number | undefined,
    private readonly session: MqttSession,
    private readonly pubacks: PubackQueue,
  ) {}

  /**
   * Once handled, a message waits for its batch to be durable, thousands at a time: the topic and the payload
   * (a view that holds the whole read chunk) would live as long, and the GC copy them from space to space.
   */
  release(): void {
    this.topic = '';
    this.payload = NO_PAYLOAD;
  }

  ack(): void {
    if (this.acked || this.messageId === undefined) return;
    this.acked = true;
    this.session.acknowledge(this.messageId, this.pubacks);
  }
}

export class MqttSession extends EventEmitter<SessionEvents> {
  private socket: Socket | undefined;
  private pubacks: PubackQueue | undefined;
  private generation = 0;
  private unacked = 0;
  private paused = false;
  private closed = false;
  private attempt = 0;
  private nextMessageId = 1;
  private keepaliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private lastInbound = 0;
  private connectedNow = false;

  constructor(private readonly options: SessionOptions) {
    super();
  }

  get connected(): boolean {
    return this.connectedNow;
  }

  get pendingAcks(): number {
    return this.unacked;
  }

  start(): void {
    this.open();
  }

  /** Publish at QoS 0; dropped silently when disconnected (used for notices to devices, which are best effort). */
  publish(topic: string, payload: Buffer): void {
    if (!this.connectedNow || !this.socket) return;
    this.socket.write(mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 0, retain: false, dup: false }));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.keepaliveTimer);
    const socket = this.socket;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.end(mqttPacket.generate({ cmd: 'disconnect' }));
      setTimeout(() => socket.destroy(), 1000).unref();
    });
  }

  private open(): void {
    const { host, port, tls } = this.options;
    const generation = ++this.generation;
    const socket = tls ? connectTls({ host, port, ...tls }) : connectTcp({ host, port });
    this.socket = socket;
    this.unacked = 0;
    this.paused = false;
    socket.setNoDelay(true);
    const pubacks = new PubackQueue(socket);
    this.pubacks = pubacks;
    const reader = new PacketReader((type, body, flags) => this.onPacket(type, body, flags, generation, pubacks));
    socket.on('data', (chunk: Buffer) => {
      this.lastInbound = Date.now();
      try {
        reader.push(chunk);
      } catch (error) {
        if (!(error instanceof MalformedPacketError)) throw error;
        socket.destroy(error);
      }
    });
    socket.once(tls ? 'secureConnect' : 'connect', () => {
      const keepalive = this.options.keepaliveSeconds ?? 30;
      socket.write(
        mqttPacket.generate({
          cmd: 'connect',
          protocolId: 'MQTT',
          protocolVersion: 4,
          clientId: this.options.clientId,
          clean: false,
          keepalive,
          username: this.options.username,
          password: Buffer.from(this.options.password),
        }),
      );
    });
    socket.on('error', (error) => this.options.logger.debug({ err: error.message }, 'mqtt socket error'));
    socket.once('close', () => this.onClose(generation));
  }

  /** A Delivery's PUBACK, on the connection it came on: on a connection since gone it is a no-op (the broker redelivers). */
  acknowledge(messageId: number, pubacks: PubackQueue): void {
    if (pubacks !== this.pubacks || !pubacks.usable) return;
    pubacks.add(messageId);
    this.unacked--;
    const maxUnacked = this.options.maxUnacked ?? 50_000;
    if (this.paused && this.unacked < maxUnacked / 2) {
      this.paused = false;
      this.lastInbound = Date.now();
      this.socket?.resume();
    }
  }

  private onPacket(type: number, body: Buffer, flags: number, generation: number, pubacks: PubackQueue): void {
    const socket = this.socket;
    if (!socket || generation !== this.generation) return;
    switch (type) {
      case PACKET.connack: {
        const returnCode = body[1] ?? -1;
        if (returnCode !== 0) {
          const reason = CONNACK_REASONS[returnCode] ?? `code ${returnCode}`;
          this.options.logger.error({ reason }, 'broker refused the connection');
          socket.destroy();
          return;
        }
        this.attempt = 0;
        this.connectedNow = true;
        this.startKeepalive(socket);
        const sessionPresent = ((body[0] ?? 0) & 1) === 1;
        socket.write(
          mqttPacket.generate({
            cmd: 'subscribe',
            messageId: this.allocateMessageId(),
            subscriptions: this.options.subscriptions,
          }),
        );
        this.emit('connected', { sessionPresent });
        return;
      }
      case PACKET.publish:
        this.onPublish(body, flags, socket, pubacks);
        return;
      case PACKET.suback:
        if (body.subarray(2).includes(SUBACK_FAILURE)) {
          this.options.logger.error('broker refused a subscription');
          return;
        }
        this.emit('subscribed');
        return;
      default:
        return;
    }
  }

  private onPublish(body: Buffer, flags: number, socket: Socket, pubacks: PubackQueue): void {
    const { topic, messageId, payload } = decodePublish(body, flags);
    if (messageId !== undefined) {
      this.unacked++;
      if (this.unacked >= (this.options.maxUnacked ?? 50_000) && !this.paused) {
        this.paused = true;
        socket.pause();
      }
    }
    const delivery = new Delivery(topic, payload, messageId, this, pubacks);
    this.emit('message', delivery);
    delivery.release();
  }

  private startKeepalive(socket: Socket): void {
    const keepaliveMs = (this.options.keepaliveSeconds ?? 30) * 1000;
    clearInterval(this.keepaliveTimer);
    this.lastInbound = Date.now();
    this.keepaliveTimer = setInterval(() => {
      // While paused nothing is read, so silence says nothing about the broker; the PINGREQs still tell it we are here.
      if (!this.paused && Date.now() - this.lastInbound > keepaliveMs * 1.5) {
        this.options.logger.warn('broker stopped answering; reconnecting');
        socket.destroy();
        return;
      }
      socket.write(mqttPacket.generate({ cmd: 'pingreq' }));
    }, keepaliveMs / 2);
    this.keepaliveTimer.unref();
  }

  private onClose(generation: number): void {
    if (generation !== this.generation) return;
    const wasConnected = this.connectedNow;
    this.connectedNow = false;
    clearInterval(this.keepaliveTimer);
    if (this.closed) return;
    if (wasConnected) this.emit('disconnected', undefined);
    const min = this.options.minReconnectMs ?? 250;
    const max = this.options.maxReconnectMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** this.attempt++) * (0.5 + Math.random() / 2);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  private allocateMessageId(): number {
    const id = this.nextMessageId;
    this.nextMessageId = id === 65_535 ? 1 : id + 1;
    return id;
  }
}
