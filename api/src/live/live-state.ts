/**
 * What the city looks like right now: every registered device with its presence, latest reading and
 * derived values, in memory. Fed by the MQTT feed, seeded from InfluxDB at start; read by the layers,
 * the WebSocket stream and the rules, which hear of each change through `onChange`.
 */
import type { Device, MetricValue, Reading } from '@city/devices';
import { AqiTracker } from './aqi-tracker.js';
import { congestionLevel, floodLevel, parkingOccupancy } from './derive.js';
import type { RoadNetwork } from './road-network.js';
import type { CongestionLevel, DeviceEvent, LiveDevice, Presence } from './types.js';
import type { Pollutant } from './vn-aqi.js';

export type LiveChange = 'reading' | 'presence' | 'meta' | 'removed' | 'event';
export type LiveListener = (device: LiveDevice, change: LiveChange, event?: DeviceEvent) => void;

export interface FloodThresholds {
  alertLevel: number;
  dangerLevel: number;
}

export interface LiveStateOptions {
  roads: RoadNetwork;
  /** A water sensor's alert and danger levels (the rules' choice: its attributes, else its zone's defaults). */
  floodThresholds: (device: LiveDevice) => FloodThresholds | undefined;
  now?: () => number;
}

export interface SegmentState {
  id: string;
  sensors: number;
  reporting: number;
  averageVehicleSpeed: number | undefined;
  intensity: number | undefined;
  occupancy: number | undefined;
  congestion: CongestionLevel | undefined;
  updatedAt: number | undefined;
}

const POLLUTANTS: readonly Pollutant[] = ['pm25', 'pm10', 'o3', 'co', 'so2', 'no2'];

export class LiveState {
  readonly devices = new Map<string, LiveDevice>();
  readonly aqi = new AqiTracker();
  private readonly listeners = new Set<LiveListener>();
  private readonly segmentSensors = new Map<string, Set<string>>();
  private readonly now: () => number;

  constructor(private readonly options: LiveStateOptions) {
    this.now = options.now ?? Date.now;
  }

  onChange(listener: LiveListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Brings the device list in line with the registry: new devices appear, removed ones go, moved ones move. */
  syncRegistry(registered: readonly Device[]): void {
    const seen = new Set<string>();
    for (const device of registered) {
      seen.add(device.id);
      const current = this.devices.get(device.id);
      if (current && current.kind === device.kind && current.lon === device.lon && current.lat === device.lat && current.zone === device.zone
        && current.name === device.name && JSON.stringify(current.attributes) === JSON.stringify(device.attributes)) continue;
      const live: LiveDevice = current && current.kind === device.kind
        ? { ...current, name: device.name, zone: device.zone, lon: device.lon, lat: device.lat, attributes: device.attributes }
        : { id: device.id, kind: device.kind, name: device.name, zone: device.zone, lon: device.lon, lat: device.lat, attributes: device.attributes,
            segment: undefined, presence: 'unknown', presenceSince: undefined, lastSeen: undefined, reading: undefined, readingTs: undefined, derived: {} };
      this.placeOnSegment(live);
      this.derive(live);
      this.devices.set(live.id, live);
      this.emit(live, 'meta');
    }
    for (const [id, device] of this.devices) {
      if (seen.has(id)) continue;
      this.devices.delete(id);
      this.aqi.remove(id);
      if (device.segment) this.segmentSensors.get(device.segment)?.delete(id);
      this.emit(device, 'removed');
    }
  }

  /** Keeps the newest reading by its own timestamp: a spool replay or a backfill must not roll the map back. */
  applyReading(id: string, reading: Reading, receivedAt = this.now()): LiveDevice | undefined {
    const device = this.devices.get(id);
    if (!device) return undefined;
    device.lastSeen = Math.max(device.lastSeen ?? 0, receivedAt);
    if (device.presence !== 'online') this.setPresence(device, 'online', receivedAt, false);
    if (device.kind === 'air_quality') this.aqi.add(id, reading.ts, pollutantsOf(reading.values));
    if (device.readingTs === undefined || reading.ts >= device.readingTs) {
      device.reading = { ...reading.values };
      device.readingTs = reading.ts;
    }
    this.derive(device);
    this.emit(device, 'reading');
    return device;
  }

  applyStatus(id: string, state: 'online' | 'offline', ts: number): LiveDevice | undefined {
    const device = this.devices.get(id);
    if (!device) return undefined;
    // A retained status older than what we already know (a reading came since) says nothing new.
    if (device.presenceSince !== undefined && ts < device.presenceSince) return device;
    this.setPresence(device, state, ts, true);
    return device;
  }

  applyEvent(event: DeviceEvent): LiveDevice | undefined {
    const device = this.devices.get(event.deviceId);
    if (device) this.emit(device, 'event', event);
    return device;
  }

  /** Readings restored from InfluxDB at start; live readings that already arrived are newer and win. */
  seedReading(id: string, reading: Reading): void {
    const device = this.devices.get(id);
    if (!device || (device.readingTs !== undefined && device.readingTs >= reading.ts)) return;
    device.reading = { ...reading.values };
    device.readingTs = reading.ts;
    device.lastSeen ??= reading.ts;
    this.derive(device);
    this.emit(device, 'reading');
  }

  /** Re-derives an air station's AQI (its hourly history was seeded after its last reading). */
  refreshDerived(id: string): void {
    const device = this.devices.get(id);
    if (!device) return;
    this.derive(device);
    this.emit(device, 'reading');
  }

  segmentState(segmentId: string): SegmentState | undefined {
    const segment = this.options.roads.segments.get(segmentId);
    if (!segment) return undefined;
    const ids = this.segmentSensors.get(segmentId) ?? new Set<string>();
    let speedSum = 0;
    let intensitySum = 0;
    let occupancySum = 0;
    let reporting = 0;
    let updatedAt: number | undefined;
    for (const id of ids) {
      const device = this.devices.get(id);
      const reading = device?.reading;
      if (!device || !reading || device.kind !== 'traffic' || device.presence === 'offline') continue;
      if (typeof reading.averageVehicleSpeed !== 'number' || typeof reading.intensity !== 'number' || typeof reading.occupancy !== 'number') continue;
      speedSum += reading.averageVehicleSpeed;
      intensitySum += reading.intensity;
      occupancySum += reading.occupancy;
      reporting += 1;
      updatedAt = Math.max(updatedAt ?? 0, device.readingTs ?? 0);
    }
    if (reporting === 0) return { id: segmentId, sensors: ids.size, reporting, averageVehicleSpeed: undefined, intensity: undefined, occupancy: undefined, congestion: undefined, updatedAt };
    const averageVehicleSpeed = speedSum / reporting;
    const occupancy = occupancySum / reporting;
    return {
      id: segmentId,
      sensors: ids.size,
      reporting,
      averageVehicleSpeed,
      intensity: intensitySum / reporting,
      occupancy,
      congestion: congestionLevel({ averageVehicleSpeed, occupancy }, segment.speedLimit),
      updatedAt,
    };
  }

  devicesOnSegment(segmentId: string): string[] | undefined {
    if (!this.options.roads.segments.has(segmentId)) return undefined;
    return [...(this.segmentSensors.get(segmentId) ?? [])].filter((id) => this.devices.get(id)?.kind === 'traffic');
  }

  private setPresence(device: LiveDevice, presence: Presence, ts: number, announce: boolean): void {
    if (device.presence === presence) return;
    device.presence = presence;
    device.presenceSince = ts;
    if (announce || presence === 'online') this.emit(device, 'presence');
  }

  private placeOnSegment(device: LiveDevice): void {
    if (device.segment) this.segmentSensors.get(device.segment)?.delete(device.id);
    const onRoad = device.kind === 'traffic' || device.kind === 'streetlight';
    const segment = onRoad ? this.options.roads.segmentFor(device.lon, device.lat, device.attributes.segment) : undefined;
    device.segment = segment?.id;
    if (!segment) return;
    let sensors = this.segmentSensors.get(segment.id);
    if (!sensors) this.segmentSensors.set(segment.id, (sensors = new Set()));
    sensors.add(device.id);
  }

  private derive(device: LiveDevice): void {
    const reading = device.reading;
    switch (device.kind) {
      case 'air_quality': {
        const aqi = this.aqi.current(device.id, this.now());
        device.derived = aqi ? { aqi: aqi.aqi, aqiCategory: aqi.category, aqiPollutant: aqi.pollutant } : {};
        break;
      }
      case 'traffic': {
        const limit = device.segment ? this.options.roads.segments.get(device.segment)?.speedLimit : undefined;
        const congestion = reading ? congestionLevel(reading, limit ?? 50) : undefined;
        device.derived = congestion ? { congestion } : {};
        break;
      }
      case 'water_level': {
        const thresholds = this.options.floodThresholds(device);
        const flood = floodLevel(reading?.currentLevel, thresholds);
        device.derived = flood ? { flood } : {};
        break;
      }
      case 'parking': {
        const occupancy = reading ? parkingOccupancy(reading, device.attributes.totalSpotNumber) : undefined;
        device.derived = occupancy === undefined ? {} : { occupancy };
        break;
      }
      default:
        device.derived = {};
    }
  }

  private emit(device: LiveDevice, change: LiveChange, event?: DeviceEvent): void {
    for (const listener of this.listeners) listener(device, change, event);
  }
}

function pollutantsOf(values: Record<string, MetricValue>): Partial<Record<Pollutant, number>> {
  const found: Partial<Record<Pollutant, number>> = {};
  for (const pollutant of POLLUTANTS) {
    const value = values[pollutant];
    if (typeof value === 'number') found[pollutant] = value;
  }
  return found;
}
