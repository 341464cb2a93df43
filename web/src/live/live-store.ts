/**
 * What the console knows of the city right now, kept from the api's layers and stream. Each stream message
 * is turned into per-source diffs (`GeoJSONSourceDiff`), which the map applies as feature-state where it can
 * (map/feature-state.ts), so it moves without reloading its sources; panels and the summary strip read the same store. With 10,000 devices a message must cost little
 * beyond its own diffs: the zone summaries come from counts kept as devices change (device-tally.ts) and reach
 * the map at most once a second, and the incident list has its own version so that device readings do not re-sort it.
 */
import type { GeoJSONSourceDiff } from 'maplibre-gl';
import type { Feature, FeatureCollection, Incident, LayerName, Properties, SegmentState, StreamDevice, StreamMessage } from '../api/types.js';
import { incidentIcon } from '../incidents/icons.js';
import { DeviceTally, incidentsPerZone, round, type PresenceCounts } from './device-tally.js';

export type SourceDiffs = Partial<Record<LayerName, GeoJSONSourceDiff>>;

const DEVICE_LAYERS: Partial<Record<StreamDevice['kind'], LayerName>> = {
  air_quality: 'environment',
  noise: 'environment',
  water_level: 'flood',
  parking: 'parking',
  streetlight: 'streetlights',
};

/** Properties that come with the layers (registry data) and not with the stream, kept across updates. */
const STATIC_DEVICE_PROPERTIES = ['name', 'alertLevel', 'dangerLevel'];
const STATIC_SEGMENT_PROPERTIES = ['id', 'name', 'nameEn', 'roadKind', 'zone', 'speedLimit', 'capacity'];

/** How long a new incident pulses on the map unless someone looks at it first. */
export const FRESH_MS = 120_000;
/** The zone summaries reach the map at most this often: each change repaints the zones layer. */
export const ZONE_REFRESH_MS = 1000;

/** A new incident the map marks until someone looks at it. */
export interface FreshIncident {
  id: string;
  lon: number;
  lat: number;
  severity: Incident['severity'];
}

export class LiveStore {
  readonly devices = new Map<string, StreamDevice>();
  readonly incidents = new Map<string, Incident>();
  /** When each incident that arrived after the snapshot first appeared. */
  readonly fresh = new Map<string, number>();
  private readonly features = new Map<LayerName, Map<string, Feature>>();
  private readonly listeners = new Set<() => void>();
  private readonly tally = new DeviceTally();
  private snapshotSeen = false;
  private zonesRefreshedAt = -Infinity;
  private zonesStale = false;
  version = 0;
  /** Bumped only when the incidents (or which of them are fresh) change. */
  incidentsVersion = 0;
  lastUpdate: number | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  /** The layers as the api served them: geometry and the registry's names, before the stream takes over. */
  load(layers: Partial<Record<LayerName, FeatureCollection>>): void {
    for (const [name, collection] of Object.entries(layers) as [LayerName, FeatureCollection][]) {
      this.features.set(name, new Map(collection.features.map((feature) => [feature.id, feature])));
    }
    this.changed();
  }

  collection(name: LayerName): FeatureCollection {
    return { type: 'FeatureCollection', features: [...(this.features.get(name)?.values() ?? [])] };
  }

  feature(name: LayerName, id: string): Feature | undefined {
    return this.features.get(name)?.get(id);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  apply(message: StreamMessage): SourceDiffs {
    const diffs = new DiffBuilder();
    const snapshot = message.type === 'snapshot';
    if (snapshot) {
      const present = new Set(message.devices.map((device) => device.id));
      for (const id of [...this.devices.keys()]) if (!present.has(id)) this.removeDevice(id, diffs);
      for (const layer of new Set(Object.values(DEVICE_LAYERS))) {
        for (const id of [...(this.features.get(layer)?.keys() ?? [])]) if (!present.has(id)) this.dropFeature(layer, id, diffs);
      }
    } else {
      for (const id of message.removed) this.removeDevice(id, diffs);
    }
    for (const device of message.devices) this.putDevice(device, diffs);
    for (const [id, state] of Object.entries(message.segments)) if (state) this.putSegment(id, state, diffs);
    if (snapshot) {
      const present = new Set(message.incidents.map((incident) => incident.id));
      for (const id of [...this.incidents.keys()]) if (!present.has(id)) this.removeIncident(id, diffs);
    }
    for (const incident of message.incidents) this.putIncident(incident, diffs, !snapshot && this.snapshotSeen);
    this.snapshotSeen ||= snapshot;
    this.zonesStale = true;
    if (snapshot) this.refreshZones(diffs);
    else this.refreshZonesIfDue(diffs);
    this.lastUpdate = message.ts;
    this.changed();
    return diffs.result();
  }

  /** An incident as the api answered an action on it (acknowledge, resolve, report): no need to wait for the stream. */
  applyIncident(incident: Incident): SourceDiffs {
    const diffs = new DiffBuilder();
    this.putIncident(incident, diffs, false);
    this.zonesStale = true;
    this.refreshZonesIfDue(diffs);
    this.changed();
    return diffs.result();
  }

  /** The zone summaries a throttled message left behind, for a timer to bring up to date. */
  flushZones(): SourceDiffs {
    if (!this.zonesStale) return {};
    const diffs = new DiffBuilder();
    this.refreshZones(diffs);
    this.changed();
    return diffs.result();
  }

  freshIncidents(): FreshIncident[] {
    return [...this.fresh.keys()].flatMap((id) => {
      const incident = this.incidents.get(id);
      return incident ? [{ id, lon: incident.lon, lat: incident.lat, severity: incident.severity }] : [];
    });
  }

  /** Stops a new incident's pulse: someone has seen it. */
  markSeen(id: string): void {
    if (!this.fresh.delete(id)) return;
    this.incidentsVersion += 1;
    this.changed();
  }

  expireFresh(): boolean {
    const limit = this.now() - FRESH_MS;
    let expired = false;
    for (const [id, since] of this.fresh) {
      if (since >= limit) continue;
      this.fresh.delete(id);
      expired = true;
    }
    if (expired) {
      this.incidentsVersion += 1;
      this.changed();
    }
    return expired;
  }

  private changed(): void {
    this.version += 1;
    for (const listener of this.listeners) listener();
  }

  private layerMap(name: LayerName): Map<string, Feature> {
    let map = this.features.get(name);
    if (!map) this.features.set(name, (map = new Map()));
    return map;
  }

  /** Devices online, offline and neither, kept as they change. */
  get presence(): Readonly<PresenceCounts> {
    return this.tally.presence;
  }

  /**
   * A known device is updated in place, its feature too: replaced, each second's 250 devices left as many
   * objects of the last reading in the old generation, and their collections were most of a delta's worst
   * frames (a major GC of tens of ms). The parsed message then dies young.
   */
  private putDevice(device: StreamDevice, diffs: DiffBuilder): void {
    const known = this.devices.get(device.id);
    if (known) this.tally.remove(known);
    const held = known ? absorbDevice(known, device) : device;
    this.tally.add(held);
    if (!known) this.devices.set(device.id, device);
    const layer = DEVICE_LAYERS[held.kind];
    if (!layer) return;
    const features = this.layerMap(layer);
    const previous = features.get(held.id);
    if (!previous) {
      const feature: Feature = { type: 'Feature', id: held.id, geometry: { type: 'Point', coordinates: [held.lon, held.lat] }, properties: deviceProperties(held, {}) };
      features.set(held.id, feature);
      diffs.add(layer, feature);
      return;
    }
    const moved = !samePoint(previous, held);
    if (moved) previous.geometry = { type: 'Point', coordinates: [held.lon, held.lat] };
    const removed = assignInPlace(previous.properties, deviceProperties(held, previous.properties));
    diffs.replace(layer, previous, removed, moved ? previous.geometry : undefined);
  }

  private removeDevice(id: string, diffs: DiffBuilder): void {
    const device = this.devices.get(id);
    if (device) this.tally.remove(device);
    this.devices.delete(id);
    const layer = device ? DEVICE_LAYERS[device.kind] : undefined;
    if (layer) this.dropFeature(layer, id, diffs);
  }

  private dropFeature(layer: LayerName, id: string, diffs: DiffBuilder): void {
    if (this.features.get(layer)?.delete(id)) diffs.remove(layer, id);
  }

  private putSegment(id: string, state: SegmentState, diffs: DiffBuilder): void {
    const feature = this.features.get('traffic')?.get(id);
    // A segment the traffic layer did not list has no geometry to draw.
    if (!feature) return;
    const previous = feature.properties;
    const properties: Properties = {};
    for (const key of STATIC_SEGMENT_PROPERTIES) if (previous[key] !== undefined) properties[key] = previous[key];
    Object.assign(properties, {
      sensors: state.sensors,
      reporting: state.reporting,
      averageVehicleSpeed: round(state.averageVehicleSpeed, 1),
      intensity: round(state.intensity, 1),
      occupancy: round(state.occupancy, 3),
      congestion: state.congestion ?? 'unknown',
      updatedAt: state.updatedAt ?? null,
    });
    feature.properties = properties;
    diffs.replace('traffic', feature, gone(previous, properties));
  }

  private putIncident(incident: Incident, diffs: DiffBuilder, announce: boolean): void {
    if (incident.status === 'resolved') {
      this.removeIncident(incident.id, diffs);
      return;
    }
    const known = this.incidents.has(incident.id);
    this.incidents.set(incident.id, incident);
    this.incidentsVersion += 1;
    if (!known && announce) this.fresh.set(incident.id, this.now());
    if (incident.status !== 'open') this.fresh.delete(incident.id);
    const feature = incidentFeature(incident);
    const features = this.layerMap('incidents');
    const previous = features.get(incident.id);
    features.set(incident.id, feature);
    if (previous) diffs.replace('incidents', feature, gone(previous.properties, feature.properties), feature.geometry);
    else diffs.add('incidents', feature);
  }

  private removeIncident(id: string, diffs: DiffBuilder): void {
    if (this.incidents.delete(id)) this.incidentsVersion += 1;
    this.fresh.delete(id);
    this.dropFeature('incidents', id, diffs);
  }

  private refreshZonesIfDue(diffs: DiffBuilder): void {
    if (this.now() - this.zonesRefreshedAt >= ZONE_REFRESH_MS) this.refreshZones(diffs);
  }

  /** The zones layer's live summary, from the tally the devices keep and the (few) incidents. */
  private refreshZones(diffs: DiffBuilder): void {
    this.zonesStale = false;
    this.zonesRefreshedAt = this.now();
    const zones = this.features.get('zones');
    if (!zones || this.devices.size === 0) return;
    const incidents = incidentsPerZone(this.incidents.values());
    for (const feature of zones.values()) {
      const summary = this.tally.summary(feature.id, incidents.get(feature.id) ?? 0);
      const properties = { ...feature.properties, ...summary };
      if (Object.keys(summary).every((key) => feature.properties[key] === properties[key])) continue;
      const removed = gone(feature.properties, properties);
      feature.properties = properties;
      diffs.replace('zones', feature, removed);
    }
  }
}

export function deviceProperties(device: StreamDevice, previous: Properties): Properties {
  const properties: Properties = {};
  for (const key of STATIC_DEVICE_PROPERTIES) if (previous[key] !== undefined) properties[key] = previous[key];
  // Assigned one by one rather than from a spread literal: a delta's 250 devices then leave no temporary objects.
  properties.id = device.id;
  properties.kind = device.kind;
  properties.zone = device.zone;
  properties.presence = device.presence;
  properties.readingTs = device.readingTs;
  if (device.reading) for (const key in device.reading) properties[key] = device.reading[key]!;
  for (const key in device.derived) properties[key] = device.derived[key as keyof StreamDevice['derived']]!;
  if (device.segment) properties.segment = device.segment;
  if (device.kind === 'streetlight') properties.fault = device.fault ?? null;
  return properties;
}

export function incidentFeature(incident: Incident): Feature {
  return {
    type: 'Feature',
    id: incident.id,
    geometry: { type: 'Point', coordinates: [incident.lon, incident.lat] },
    properties: {
      id: incident.id,
      type: incident.type,
      category: incident.category,
      severity: incident.severity,
      status: incident.status,
      zone: incident.zone ?? null,
      description: incident.description,
      openedAt: incident.openedAt,
      icon: incidentIcon(incident.type, incident.category),
    },
  };
}

/** The keys of `before` that `after` lacks. */
function gone(before: Properties, after: Properties): string[] {
  const keys: string[] = [];
  for (const key in before) if (!(key in after)) keys.push(key);
  return keys;
}

/** `target` made equal to `source` in place; the keys it lost. */
function assignInPlace<T extends object>(target: T, source: T): string[] {
  const removed = gone(target as Properties, source as Properties);
  for (const key of removed) delete (target as Properties)[key];
  Object.assign(target, source);
  return removed;
}

/** `held` brought up to `next` in place, its reading and derived values too. */
function absorbDevice(held: StreamDevice, next: StreamDevice): StreamDevice {
  const { reading, derived } = held;
  assignInPlace(held, next);
  if (reading && next.reading) {
    assignInPlace(reading, next.reading);
    held.reading = reading;
  }
  assignInPlace(derived, next.derived);
  held.derived = derived;
  return held;
}

function samePoint(feature: Feature, device: StreamDevice): boolean {
  const [lon, lat] = feature.geometry.coordinates as number[];
  return lon === device.lon && lat === device.lat;
}

/**
 * Collects the changes of one message per source; a feature changed twice is sent once. Updates name the
 * properties to drop rather than using `removeAllProperties`, which maplibre applies instead of, not before,
 * the properties to add.
 */
class DiffBuilder {
  private readonly diffs = new Map<LayerName, { add: Map<string, Feature>; update: Map<string, { feature: Feature; removed: string[]; geometry: boolean }>; remove: Set<string> }>();

  private of(layer: LayerName) {
    let diff = this.diffs.get(layer);
    if (!diff) this.diffs.set(layer, (diff = { add: new Map(), update: new Map(), remove: new Set() }));
    return diff;
  }

  add(layer: LayerName, feature: Feature): void {
    const diff = this.of(layer);
    diff.remove.delete(feature.id);
    diff.add.set(feature.id, feature);
  }

  /** `removed`: properties the map holds that `feature` no longer has. */
  replace(layer: LayerName, feature: Feature, removed: string[], newGeometry?: Feature['geometry']): void {
    const diff = this.of(layer);
    if (diff.add.has(feature.id)) {
      diff.add.set(feature.id, feature);
      return;
    }
    const pending = diff.update.get(feature.id);
    diff.update.set(feature.id, { feature, removed: pending ? [...pending.removed, ...removed] : removed, geometry: (pending?.geometry ?? false) || newGeometry !== undefined });
  }

  remove(layer: LayerName, id: string): void {
    const diff = this.of(layer);
    if (diff.add.delete(id)) return;
    diff.update.delete(id);
    diff.remove.add(id);
  }

  result(): SourceDiffs {
    const result: SourceDiffs = {};
    for (const [layer, diff] of this.diffs) {
      if (diff.add.size + diff.update.size + diff.remove.size === 0) continue;
      const out: GeoJSONSourceDiff = {};
      if (diff.remove.size) out.remove = [...diff.remove];
      if (diff.add.size) out.add = [...diff.add.values()] as GeoJSON.Feature[];
      if (diff.update.size) {
        out.update = [];
        for (const { feature, removed, geometry } of diff.update.values()) out.update.push(updateOf(feature, removed, geometry));
      }
      result[layer] = out;
    }
    return result;
  }
}

/** One feature's update, built in loops rather than through `Object.keys`/`entries` arrays: 250 of them a second. */
function updateOf(feature: Feature, removed: readonly string[], geometry: boolean): NonNullable<GeoJSONSourceDiff['update']>[number] {
  const update: NonNullable<GeoJSONSourceDiff['update']>[number] = { id: feature.id, addOrUpdateProperties: [] };
  if (geometry) update.newGeometry = feature.geometry as GeoJSON.Geometry;
  for (const key of removed) if (!(key in feature.properties)) (update.removeProperties ??= []).push(key);
  for (const key in feature.properties) update.addOrUpdateProperties!.push({ key, value: feature.properties[key] });
  return update;
}
