/**
 * The device SDK: what a vendor embeds to speak the platform's device contract. It runs its own
 * reconnect loop instead of mqtt.js's fixed period, with exponential back-off and full jitter, so
 * that a fleet does not reconnect in the same second after a broker restart; and it buffers readings
 * while offline, stamped with the time they were produced, to deliver them in order once back.
 */
import { EventEmitter } from 'node:events';
import { connect as mqttConnect, type MqttClient } from 'mqtt';
import type { MetricValue } from '../telemetry.js';
import { deviceTopic, isValidDeviceId, MAX_BATCH_READINGS, MAX_PAYLOAD_BYTES, type RejectionNotice } from '../topics.js';
import { OfflineBuffer } from './offline-buffer.js';

export interface DeviceClientOptions {
  /** `mqtt://host:1883` or `mqtts://host:8883`. */
  url: string;
  deviceId: string;
  secret: string;
  /** Readings kept while offline; beyond it the oldest are dropped. */
  bufferLimit?: number;
  minReconnectMs?: number;
  maxReconnectMs?: number;
  /** How long one attempt may take from opening the socket to the CONNACK. */
  connectTimeoutMs?: number;
  keepaliveSeconds?: number;
  /** CA certificate(s) for mqtts:// when the broker's certificate is not publicly trusted. */
  ca?: string | string[] | Buffer | Buffer[];
  rejectUnauthorized?: boolean;
}

export interface DeviceReading {
  /** Epoch milliseconds or ISO-8601 with a zone; when absent, the time of the `publishTelemetry` call. */
  ts?: number | string;
  [metric: string]: MetricValue | undefined;
}

export interface DeviceEvent {
  type: string;
  ts?: number | string;
  detail?: unknown;
}

export interface PublishResult {
  /** True when the readings went to the offline buffer instead of being acknowledged by the broker. */
  buffered: boolean;
}

export interface DeviceClientStats {
  /** Readings handed to the broker, counting each retransmission. */
  sent: number;
  acknowledged: number;
  /** Readings waiting in the offline buffer now. */
  buffered: number;
  dropped: number;
  /** Connections re-established after the first one. */
  reconnects: number;
}

/** `waiting` is between attempts; `refused` is final: the broker rejected the credentials. */
export type DeviceClientState = 'idle' | 'connecting' | 'online' | 'waiting' | 'refused' | 'closed';

export type DeviceClientEvents = {
  connect: [];
  offline: [error: Error | undefined];
  refused: [error: ConnectionRefusedError];
};

export class ConnectionRefusedError extends Error {
  override name = 'ConnectionRefusedError';
  constructor(
    /** The CONNACK return code: 4 bad user name or password, 5 not authorised, 2 client id rejected. */
    readonly returnCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** CONNACK codes that retrying cannot fix; 3 (server unavailable) is worth retrying. */
const PERMANENT_REFUSALS = new Set([1, 2, 4, 5]);

/** The broker cuts a connection whose packet exceeds 64 KiB; the topic and headers need room too. */
const PAYLOAD_BUDGET = MAX_PAYLOAD_BYTES - 256;
/**
 * Every reading is sent with `"sentAt":<epoch ms>,` — this clock at the moment of sending, against which
 * the platform checks the clock (see the device contract), while `ts` keeps the time of the reading.
 */
const SENT_AT_BYTES = '"sentAt":0000000000000,'.length;

/** One reading, serialised once when produced: its size decides how batches are cut. */
interface Pending {
  json: string;
  bytes: number;
}

interface InFlight {
  readings: Pending[];
  settle: (acknowledged: boolean) => void;
}

interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class DeviceClient extends EventEmitter<DeviceClientEvents> {
  private readonly options: Required<Omit<DeviceClientOptions, 'ca' | 'rejectUnauthorized'>> &
    Pick<DeviceClientOptions, 'ca' | 'rejectUnauthorized'>;
  private readonly topics;
  private readonly buffer: OfflineBuffer<Pending>;
  /** Publishes awaiting PUBACK, in the order they were sent. */
  private readonly inFlight = new Map<number, InFlight>();
  private readonly commandHandlers = new Set<(command: unknown) => void>();
  private readonly errorHandlers = new Set<(notices: RejectionNotice[]) => void>();
  private readonly counters = { sent: 0, acknowledged: 0, reconnects: 0 };
  private client: MqttClient | undefined;
  private current: DeviceClientState = 'idle';
  private firstConnect: Deferred | undefined;
  private refusal: ConnectionRefusedError | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  private everConnected = false;
  private flushingClient: MqttClient | undefined;
  private sequence = 0;

  constructor(options: DeviceClientOptions) {
    super();
    if (!/^mqtts?:\/\//.test(options.url)) throw new Error(`url must start with mqtt:// or mqtts://, not ${options.url}`);
    if (!isValidDeviceId(options.deviceId)) throw new Error(`"${options.deviceId}" is not a valid device id`);
    this.options = {
      ...options,
      bufferLimit: options.bufferLimit ?? 10_000,
      minReconnectMs: options.minReconnectMs ?? 1000,
      maxReconnectMs: options.maxReconnectMs ?? 60_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      keepaliveSeconds: options.keepaliveSeconds ?? 60,
    };
    this.topics = {
      telemetry: deviceTopic(options.deviceId, 'telemetry'),
      events: deviceTopic(options.deviceId, 'events'),
      commands: deviceTopic(options.deviceId, 'commands'),
      errors: deviceTopic(options.deviceId, 'errors'),
    };
    this.buffer = new OfflineBuffer(this.options.bufferLimit);
  }

  get state(): DeviceClientState {
    return this.current;
  }

  /**
   * Resolves at the first CONNACK. Until then it keeps retrying (readings published meanwhile are
   * buffered); it rejects only when the broker refuses the credentials, or on `close()`.
   */
  connect(): Promise<void> {
    if (this.current === 'closed') return Promise.reject(new Error('the device client is closed'));
    if (this.refusal) return Promise.reject(this.refusal);
    if (!this.firstConnect) {
      this.firstConnect = deferred();
      this.open();
    }
    return this.firstConnect.promise;
  }

  /**
   * Sends one reading, or several as gateway batches, with QoS 1 and resolves once the broker has
   * acknowledged them. While offline (or while older readings are still queued, to keep the order)
   * they are buffered and the promise resolves at once with `{ buffered: true }`.
   */
  async publishTelemetry(input: DeviceReading | readonly DeviceReading[]): Promise<PublishResult> {
    if (this.current === 'closed') throw new Error('the device client is closed');
    const now = Date.now();
    const batch = isReadingList(input);
    const readings = (batch ? input : [input]).map((reading) => serialise(reading, now));
    const client = this.client;
    if (this.current !== 'online' || !client || this.buffer.length > 0) {
      for (const reading of readings) this.buffer.push(reading);
      if (this.current === 'online' && client) void this.flush(client);
      return { buffered: true };
    }
    const sends = batch ? batchesOf(readings).map((part) => this.send(client, part, true)) : [this.send(client, readings, false)];
    const acknowledged = await Promise.all(sends);
    return { buffered: acknowledged.includes(false) };
  }

  /** Events are not buffered: one detected while offline is refused, so the caller decides what to do. */
  async publishEvent(event: DeviceEvent): Promise<void> {
    const client = this.client;
    if (this.current !== 'online' || !client) throw new Error(`device ${this.options.deviceId} is not connected`);
    const { ts, ...rest } = event;
    await client.publishAsync(this.topics.events, JSON.stringify({ ...rest, ts: ts ?? Date.now() }), { qos: 1 });
  }

  /** Commands from the platform, parsed from JSON. Returns a function that removes the handler. */
  onCommand(handler: (command: unknown) => void): () => void {
    this.commandHandlers.add(handler);
    return () => this.commandHandlers.delete(handler);
  }

  /** Why the platform refused something this device sent; always an array, one notice per refusal. */
  onError(handler: (notices: RejectionNotice[]) => void): () => void {
    this.errorHandlers.add(handler);
    return () => this.errorHandlers.delete(handler);
  }

  stats(): DeviceClientStats {
    return { ...this.counters, buffered: this.buffer.length, dropped: this.buffer.dropped };
  }

  /**
   * Waits for the publishes in flight to be acknowledged, then disconnects. Readings still in the
   * buffer are discarded: `stats().buffered` just before tells how many.
   */
  async close(): Promise<void> {
    if (this.current === 'closed') return;
    const client = this.client;
    const wasOnline = this.current === 'online';
    this.current = 'closed';
    this.client = undefined;
    clearTimeout(this.reconnectTimer);
    this.firstConnect?.reject(new Error('the device client was closed before it connected'));
    if (client) {
      await new Promise<void>((resolve) => {
        // A connection that drops while draining ends the wait as well.
        client.once('close', () => resolve());
        client.end(!wasOnline, () => resolve());
      });
    }
    for (const entry of this.inFlight.values()) entry.settle(false);
    this.inFlight.clear();
  }

  private open(): void {
    this.current = 'connecting';
    const { deviceId, secret } = this.options;
    const client = mqttConnect(this.options.url, {
      clientId: deviceId,
      username: deviceId,
      password: secret,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      resubscribe: false,
      connectTimeout: this.options.connectTimeoutMs,
      keepalive: this.options.keepaliveSeconds,
      ...(this.options.ca !== undefined && { ca: this.options.ca }),
      ...(this.options.rejectUnauthorized !== undefined && { rejectUnauthorized: this.options.rejectUnauthorized }),
    });
    this.client = client;
    let lastError: Error | undefined;
    let refusal: ConnectionRefusedError | undefined;
    client.on('error', (error) => {
      lastError = error;
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'number' && PERMANENT_REFUSALS.has(code)) {
        refusal = new ConnectionRefusedError(
          code,
          `the broker refused device ${deviceId} (${error.message}); check its id and secret (a rotated secret replaces the old one). Not retrying.`,
        );
      }
    });
    client.on('connect', () => this.online(client));
    client.on('message', (topic, payload) => this.dispatch(topic, payload));
    client.once('close', () => this.lost(client, lastError, refusal));
  }

  private online(client: MqttClient): void {
    if (this.client !== client) return;
    this.current = 'online';
    this.failedAttempts = 0;
    if (this.everConnected) this.counters.reconnects++;
    this.everConnected = true;
    // A clean session forgets subscriptions, so they are made at every connection. A refusal only means
    // the platform will not talk back; telemetry still flows, so it is not treated as an error.
    client.subscribe({ [this.topics.commands]: { qos: 1 }, [this.topics.errors]: { qos: 0 } }, () => undefined);
    this.emit('connect');
    this.firstConnect?.resolve();
    void this.flush(client);
  }

  private lost(client: MqttClient, error: Error | undefined, refusal: ConnectionRefusedError | undefined): void {
    if (this.client !== client) return;
    this.client = undefined;
    const wasOnline = this.current === 'online';
    this.requeueInFlight();
    // Discards mqtt.js's own copies of unacknowledged publishes: this client resends them from the buffer.
    client.end(true);
    if (wasOnline) this.emit('offline', error);
    if (refusal) {
      this.current = 'refused';
      this.refusal = refusal;
      this.firstConnect?.reject(refusal);
      this.emit('refused', refusal);
      return;
    }
    this.current = 'waiting';
    const delay = reconnectDelay(this.failedAttempts++, this.options.minReconnectMs, this.options.maxReconnectMs);
    this.reconnectTimer = setTimeout(() => this.open(), delay);
  }

  /** Readings sent but not acknowledged go back to the head of the buffer, in the order they were sent. */
  private requeueInFlight(): void {
    const entries = [...this.inFlight.values()];
    this.inFlight.clear();
    this.buffer.unshift(entries.flatMap((entry) => entry.readings));
    for (const entry of entries) entry.settle(false);
  }

  /** One batch at a time, each awaiting its PUBACK, so that a lost connection loses little progress. */
  private async flush(client: MqttClient): Promise<void> {
    if (this.flushingClient === client) return;
    this.flushingClient = client;
    try {
      while (this.client === client && this.current === 'online' && this.buffer.length > 0) {
        const batch = this.buffer.take(MAX_BATCH_READINGS, PAYLOAD_BUDGET, batchWeight);
        if (!(await this.send(client, batch, true))) break;
      }
    } finally {
      if (this.flushingClient === client) this.flushingClient = undefined;
    }
  }

  private send(client: MqttClient, readings: Pending[], asBatch: boolean): Promise<boolean> {
    const stamp = `{"sentAt":${Date.now()},`;
    const stamped = readings.map((reading) => stamp + reading.json.slice(1));
    const payload = asBatch ? `[${stamped.join(',')}]` : (stamped[0] as string);
    const id = this.sequence++;
    this.counters.sent += readings.length;
    return new Promise((settle) => {
      this.inFlight.set(id, { readings, settle });
      client.publish(this.topics.telemetry, payload, { qos: 1 }, (error) => {
        // Absent when the connection dropped first and the readings were already requeued.
        if (!this.inFlight.delete(id)) return;
        if (error) {
          this.buffer.unshift(readings);
          settle(false);
          return;
        }
        this.counters.acknowledged += readings.length;
        settle(true);
      });
    });
  }

  private dispatch(topic: string, payload: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(payload.toString('utf8'));
    } catch {
      // The contract says JSON; anything else did not come from the platform.
      return;
    }
    if (topic === this.topics.commands) {
      for (const handler of this.commandHandlers) handler(message);
    } else if (topic === this.topics.errors) {
      const notices = (Array.isArray(message) ? message : [message]) as RejectionNotice[];
      for (const handler of this.errorHandlers) handler(notices);
    }
  }
}

/**
 * Exponential back-off with full jitter: uniform between 0 and a ceiling that doubles with each failed
 * attempt, so that devices cut off together come back spread over the whole window.
 */
export function reconnectDelay(failedAttempts: number, minMs: number, maxMs: number, random: () => number = Math.random): number {
  return random() * Math.min(maxMs, minMs * 2 ** failedAttempts);
}

/** Creates a client and waits for its first connection. */
export async function createDevice(options: DeviceClientOptions): Promise<DeviceClient> {
  const device = new DeviceClient(options);
  await device.connect();
  return device;
}

function serialise(reading: DeviceReading, now: number): Pending {
  const { ts, ...metrics } = reading;
  const json = JSON.stringify({ ts: ts ?? now, ...metrics });
  const bytes = Buffer.byteLength(json);
  if (bytes + SENT_AT_BYTES > PAYLOAD_BUDGET) throw new RangeError(`a reading of ${bytes} bytes exceeds the ${PAYLOAD_BUDGET - SENT_AT_BYTES}-byte limit`);
  return { json, bytes };
}

/** A reading's share of a batch payload: itself, its `sentAt` and its comma; the brackets fit in the budget's margin. */
function batchWeight(reading: Pending): number {
  return reading.bytes + SENT_AT_BYTES + 1;
}

function batchesOf(readings: Pending[]): Pending[][] {
  const queue = new OfflineBuffer<Pending>(Math.max(1, readings.length));
  for (const reading of readings) queue.push(reading);
  const batches: Pending[][] = [];
  while (queue.length > 0) batches.push(queue.take(MAX_BATCH_READINGS, PAYLOAD_BUDGET, batchWeight));
  return batches;
}

function isReadingList(input: DeviceReading | readonly DeviceReading[]): input is readonly DeviceReading[] {
  return Array.isArray(input);
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
