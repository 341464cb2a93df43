/**
 * The live stream's fan-out. Each client gets a snapshot, then at most one delta a second holding only
 * what changed since its last message (the latest state of each changed thing, never the history of it).
 * The pace is kept per client, counted from its last message, the snapshot included: a change arms the client's
 * own timer for the moment a second has passed since then, so that a change waits for the once-a-second pace
 * and nothing more (a shared tick would add up to its period to every change, and would send a client's first
 * delta moments after its snapshot).
 * A client that cannot keep up — its socket still holds unsent data — is skipped until it drains (each
 * check that passes it over counts in `ticksSkipped`); its pending set grows only up to the number of
 * things in the city, so memory stays bounded and it catches up with the latest state once it drains.
 */
import type { WebSocket } from 'ws';
import { streetlightFault } from '../layers/features.js';
import type { LiveChange } from '../live/live-state.js';
import type { LiveDevice } from '../live/types.js';
import type { Placed, StreamFilter } from './stream-filter.js';

export interface StreamSources<Incident extends StreamIncident> {
  devices(): Iterable<LiveDevice>;
  device(id: string): LiveDevice | undefined;
  segments(): Iterable<string>;
  segment(id: string): unknown;
  incidents(): Incident[];
}

/** What the hub needs of an incident: its id, and where it belongs for a client that follows part of the city. */
export interface StreamIncident extends Placed {
  id: string;
}

interface Client {
  socket: WebSocket;
  /** Undefined: the whole city. */
  filter: StreamFilter | undefined;
  devices: Set<string>;
  removed: Set<string>;
  segments: Set<string>;
  incidents: Map<string, unknown>;
  alive: boolean;
  /** When its last message went out (epoch ms). */
  sentAt: number;
  /** Armed while it has changes waiting for their turn. */
  timer: NodeJS.Timeout | undefined;
}

export interface StreamHubOptions {
  /** At most one message per client in this time. */
  intervalMs?: number;
  /** Past this much unsent data a client is treated as slow and skipped until it drains. */
  slowClientBytes?: number;
}

/** A slow client is checked again this many times per interval, until it drains. */
const CHECKS_PER_INTERVAL = 10;

export class StreamHub<Incident extends StreamIncident> {
  private readonly clients = new Set<Client>();
  private readonly heartbeat: NodeJS.Timeout;
  private readonly intervalMs: number;
  private readonly slowClientBytes: number;
  private sent = 0;
  private skipped = 0;

  constructor(
    private readonly sources: StreamSources<Incident>,
    options: StreamHubOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.slowClientBytes = options.slowClientBytes ?? 1024 * 1024;
    this.heartbeat = setInterval(() => this.ping(), 30_000);
    this.heartbeat.unref();
  }

  /** `pendingMax`: the most changes one client has waiting, bounded by the number of things in the city. */
  get stats() {
    let pendingMax = 0;
    for (const client of this.clients) pendingMax = Math.max(pendingMax, pendingOf(client));
    return { clients: this.clients.size, deltasSent: this.sent, ticksSkipped: this.skipped, pendingMax };
  }

  add(socket: WebSocket, filter?: StreamFilter): void {
    const ts = Date.now();
    const client: Client = { socket, filter, devices: new Set(), removed: new Set(), segments: new Set(), incidents: new Map(), alive: true, sentAt: ts, timer: undefined };
    this.clients.add(client);
    socket.on('pong', () => (client.alive = true));
    socket.on('close', () => this.forget(client));
    socket.on('error', () => this.forget(client));
    // Clients only listen; anything they send is ignored rather than buffered.
    socket.on('message', () => undefined);
    const devices = filter ? [...this.sources.devices()].filter((device) => filter.device(device)) : [...this.sources.devices()];
    const segmentIds = filter ? devices.flatMap((device) => (device.segment ? [device.segment] : [])) : this.sources.segments();
    const segments: Record<string, unknown> = {};
    for (const id of segmentIds) segments[id] = this.sources.segment(id);
    const incidents = this.sources.incidents();
    socket.send(
      JSON.stringify({
        type: 'snapshot',
        ts,
        devices: devices.map(compactDevice),
        segments,
        incidents: filter ? incidents.filter((incident) => this.follows(client, incident)) : incidents,
      }),
    );
  }

  deviceChanged(device: LiveDevice, change: LiveChange): void {
    if (change === 'event') return;
    for (const client of this.clients) {
      if (client.filter && !client.filter.device(device)) continue;
      if (change === 'removed') {
        client.devices.delete(device.id);
        client.removed.add(device.id);
      } else {
        client.devices.add(device.id);
      }
      if (device.segment) client.segments.add(device.segment);
      this.schedule(client);
    }
  }

  incidentChanged(incident: Incident): void {
    for (const client of this.clients) {
      if (!this.follows(client, incident)) continue;
      client.incidents.set(incident.id, incident);
      this.schedule(client);
    }
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const client of this.clients) {
      clearTimeout(client.timer);
      client.socket.close(1001, 'server shutting down');
    }
    this.clients.clear();
  }

  private follows(client: Client, incident: Incident): boolean {
    return !client.filter || client.filter.incident(incident, (id) => this.sources.device(id));
  }

  private forget(client: Client): void {
    clearTimeout(client.timer);
    this.clients.delete(client);
  }

  /** Arms the client's timer, unless armed, for when a second has passed since its last message. */
  private schedule(client: Client): void {
    client.timer ??= this.arm(client, client.sentAt + this.intervalMs - Date.now());
  }

  private arm(client: Client, delayMs: number): NodeJS.Timeout {
    const timer = setTimeout(() => {
      client.timer = undefined;
      this.flush(client);
    }, Math.max(0, delayMs));
    timer.unref();
    return timer;
  }

  private flush(client: Client): void {
    const now = Date.now();
    if (pendingOf(client) === 0 || !this.clients.has(client) || client.socket.readyState !== client.socket.OPEN) return;
    // A timer may fire a millisecond early by the wall clock: the pace is never shortened for it.
    if (now - client.sentAt < this.intervalMs) {
      client.timer = this.arm(client, client.sentAt + this.intervalMs - now);
      return;
    }
    if (client.socket.bufferedAmount > this.slowClientBytes) {
      this.skipped += 1;
      client.timer = this.arm(client, this.intervalMs / CHECKS_PER_INTERVAL);
      return;
    }
    const devices: unknown[] = [];
    for (const id of client.devices) {
      const device = this.sources.device(id);
      if (device) devices.push(compactDevice(device));
    }
    const segments: Record<string, unknown> = {};
    for (const id of client.segments) segments[id] = this.sources.segment(id);
    const message = { type: 'delta', ts: now, devices, removed: [...client.removed], segments, incidents: [...client.incidents.values()] };
    client.devices.clear();
    client.removed.clear();
    client.segments.clear();
    client.incidents.clear();
    client.socket.send(JSON.stringify(message));
    client.sentAt = now;
    this.sent += 1;
  }

  private ping(): void {
    for (const client of this.clients) {
      if (!client.alive) {
        client.socket.terminate();
        this.forget(client);
        continue;
      }
      client.alive = false;
      client.socket.ping();
    }
  }
}

function pendingOf(client: Client): number {
  return client.devices.size + client.removed.size + client.segments.size + client.incidents.size;
}

/** What the console needs of a device on each update: no names or attributes (those come with the layers); a streetlight's fault as the layer judges it. */
export function compactDevice(device: LiveDevice) {
  return {
    id: device.id,
    kind: device.kind,
    zone: device.zone,
    lon: device.lon,
    lat: device.lat,
    presence: device.presence,
    readingTs: device.readingTs ?? null,
    reading: device.reading ?? null,
    derived: device.derived,
    segment: device.segment ?? null,
    ...(device.kind === 'streetlight' ? { fault: streetlightFault(device) } : {}),
  };
}
