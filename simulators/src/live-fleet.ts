/**
 * The fleet at work: one SDK client per device, each publishing on its kind's reporting interval in
 * simulated time, with start times spread so that the fleet does not report in lockstep.
 */
import { once } from 'node:events';
import { KINDS, deviceTopic, type DeviceKind } from '@city/devices';
import { DeviceClient } from '@city/devices';
import type { Logger } from '@city/platform';
import mqtt, { type MqttClient } from 'mqtt';
import type { DeviceSession } from './backfill.js';
import type { SimClock } from './clock.js';
import type { Credentials } from './credentials.js';
import type { Placement } from './model/city-data.js';
import { uniform } from './model/random.js';
import { readingFor, type World } from './model/sensors.js';

export interface LiveFleetOptions {
  url: string;
  world: World;
  clock: SimClock;
  placements: readonly Placement[];
  credentials: Credentials;
  logger: Logger;
}

interface Member {
  placement: Placement;
  client: DeviceClient;
  timer?: NodeJS.Timeout;
  nextSim: number;
  /** While the device's firmware is broken: the raw connection it sends garbage on, in place of its SDK client. */
  broken?: Promise<MqttClient>;
  garbageSent: number;
}

/** More than a day of readings at the fastest reporting interval: an outage of the platform loses nothing. */
const BUFFER_LIMIT = 2000;

/** Malformed payloads a broken device sends in turn, one of each kind of mistake. */
const GARBAGE = ['{"intensity": 12', 'null', '[]', '{"LAeq": "loud"}', '{"pm25": -5}', '{"unexpected": true}', '\u0000\u0001binary', '{"ts": "yesterday"}'];

export class LiveFleet {
  private readonly members = new Map<string, Member>();
  private stopped = false;

  constructor(private readonly options: LiveFleetOptions) {}

  get size(): number {
    return this.members.size;
  }

  async start(): Promise<void> {
    const { placements, credentials, url, clock, world } = this.options;
    for (const placement of placements) {
      const secret = credentials.get(placement.id);
      if (!secret) continue;
      const client = new DeviceClient({ url, deviceId: placement.id, secret, bufferLimit: BUFFER_LIMIT });
      const interval = intervalMs(placement.kind);
      const member: Member = { placement, client, nextSim: clock.now() + uniform(world.seed, placement.id, 'phase') * interval, garbageSent: 0 };
      this.members.set(placement.id, member);
      client.connect().catch((error: Error) => this.options.logger.error({ deviceId: placement.id, err: error.message }, 'device could not connect'));
      this.schedule(member);
    }
  }

  /** The camera on a segment (bridge cameras detect accidents), if there is one. */
  cameraOn(segment: string): Placement | undefined {
    return [...this.members.values()].find((member) => member.placement.camera && member.placement.segment === segment)?.placement;
  }

  /** Publishes an event, giving a device still connecting (the fleet just started) a few seconds to come online. */
  async publishEvent(deviceId: string, event: { type: string; detail?: unknown }): Promise<void> {
    const member = this.members.get(deviceId);
    if (!member) throw new Error(`no device ${deviceId} in the fleet`);
    if (member.client.state !== 'online') await once(member.client, 'connect', { signal: AbortSignal.timeout(10_000) }).catch(() => undefined);
    await member.client.publishEvent({ ...event, ts: this.options.clock.now() });
  }

  /**
   * Publishes past readings through the device's own connection (a backfill while the fleet runs),
   * waiting for the connection first: history must not pour into the offline buffer and push out
   * the live readings.
   */
  session(deviceId: string): DeviceSession {
    const member = this.members.get(deviceId);
    if (!member) throw new Error(`no device ${deviceId} in the fleet`);
    return {
      publish: async (readings) => {
        if (member.client.state !== 'online') await once(member.client, 'connect');
        await member.client.publishTelemetry(readings);
      },
      release: async () => undefined,
    };
  }

  /**
   * Broken firmware: the device's well-behaved client steps aside (the raw connection takes over its
   * session) and a raw connection sends what the SDK would never let through.
   */
  private breakFirmware(member: Member): Promise<MqttClient> {
    const { id } = member.placement;
    const secret = this.options.credentials.get(id) as string;
    const closing = member.client.close();
    return closing.then(() => mqtt.connectAsync(this.options.url, { clientId: id, username: id, password: secret, reconnectPeriod: 0 }));
  }

  private sendGarbage(member: Member): void {
    member.broken ??= this.breakFirmware(member);
    const payload = GARBAGE[member.garbageSent++ % GARBAGE.length] as string;
    member.broken
      .then((raw) => raw.publishAsync(deviceTopic(member.placement.id, 'telemetry'), payload, { qos: 1 }))
      .catch((error: Error) => this.options.logger.warn({ deviceId: member.placement.id, err: error.message }, 'garbage publish failed'));
  }

  /** The firmware is fixed: the raw connection goes, and a fresh SDK client reconnects once it has. */
  private repairFirmware(member: Member): void {
    const broken = member.broken as Promise<MqttClient>;
    member.broken = undefined;
    const { id } = member.placement;
    member.client = new DeviceClient({ url: this.options.url, deviceId: id, secret: this.options.credentials.get(id) as string, bufferLimit: BUFFER_LIMIT });
    const client = member.client;
    broken
      .then((raw) => raw.endAsync(), () => undefined)
      .then(() => (this.stopped ? undefined : client.connect()))
      .catch((error: Error) => this.options.logger.error({ deviceId: id, err: error.message }, 'device could not reconnect'));
  }

  stats(): { sent: number; acknowledged: number; buffered: number; dropped: number } {
    const total = { sent: 0, acknowledged: 0, buffered: 0, dropped: 0 };
    for (const member of this.members.values()) {
      const stats = member.client.stats();
      total.sent += stats.sent;
      total.acknowledged += stats.acknowledged;
      total.buffered += stats.buffered;
      total.dropped += stats.dropped;
    }
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const member of this.members.values()) clearTimeout(member.timer);
    await Promise.all(
      [...this.members.values()].flatMap((member) => [
        member.client.close().catch(() => undefined),
        member.broken?.then((raw) => raw.endAsync()).catch(() => undefined),
      ]),
    );
  }

  private schedule(member: Member): void {
    if (this.stopped) return;
    const { clock } = this.options;
    const delay = Math.max(0, clock.realDelay(member.nextSim - clock.now()));
    member.timer = setTimeout(() => this.tick(member), delay);
  }

  private tick(member: Member): void {
    const { clock, world, logger } = this.options;
    const now = clock.now();
    const { placement } = member;
    const silentUntil = world.overlay.silent.get(placement.id) ?? 0;
    const garbageUntil = world.overlay.garbage.get(placement.id) ?? 0;
    // Judged at the reading's own time: a tick that fires late must not leak a reading into a silent hour.
    const at = member.nextSim;
    if (at < garbageUntil) this.sendGarbage(member);
    else {
      if (member.broken) this.repairFirmware(member);
      if (at >= silentUntil) {
        const reading = { ts: Math.round(at), ...readingFor(world, placement, at) };
        member.client.publishTelemetry(reading).catch((error: Error) => logger.warn({ deviceId: placement.id, err: error.message }, 'publish failed'));
      }
    }
    member.nextSim += intervalMs(placement.kind);
    // After a long pause (a laptop asleep), skip ahead rather than flood the platform with the gap.
    if (member.nextSim < now - 10 * intervalMs(placement.kind)) member.nextSim = now;
    this.schedule(member);
  }
}

export function intervalMs(kind: DeviceKind): number {
  return KINDS[kind].reportingIntervalSeconds * 1000;
}
