/**
 * Live values on the map through feature-state rather than through the tiles. A GeoJSON source whose features
 * change properties is re-cut into tiles, re-uploaded and redrawn tile by tile (10,000 devices: seconds of work
 * for each delta on a slow machine); a feature-state change only rewrites the paint values of the features it
 * names, in one frame. So the tiles of these sources hold the geometry and what their layers' filters and
 * layouts read (`TILED_KEYS`), and their layers' paint reads everything else from feature-state.
 */
import type { GeoJSONSourceDiff } from 'maplibre-gl';
import type { FeatureCollection, LayerName, Properties } from '../api/types.js';
import { bandKey } from '../layers/definitions.js';

/** Per source, the only properties its layers' `filter` and `layout` may read (feature-state is for paint only). */
export const TILED_KEYS: Partial<Record<LayerName, readonly string[]>> = {
  environment: ['id', 'kind', 'aqi'],
  flood: ['id', 'kind'],
  parking: ['id', 'kind'],
  streetlights: ['id', 'kind'],
  traffic: ['id', 'name', 'nameEn'],
  zones: ['id', 'name'],
};

export type FeatureStates = Map<string, Properties>;

/**
 * Every key that a paint expression reads as `['feature-state', key]`. Only these go to the map: a reading
 * changes a dozen values of a device and most often none that is drawn (an AQI within its band, a lamp still
 * on), and a feature-state change costs maplibre a pass over that feature's paint values in every tile.
 */
export function paintedKeys(paints: readonly unknown[]): Set<string> {
  const keys = new Set<string>();
  const visit = (value: unknown): void => {
    if (!Array.isArray(value)) {
      if (value && typeof value === 'object') Object.values(value).forEach(visit);
      return;
    }
    if (value[0] === 'feature-state' && typeof value[1] === 'string') keys.add(value[1]);
    value.forEach(visit);
  };
  paints.forEach(visit);
  return keys;
}

/** What a source's tiles hold now, by feature, and every key its feature-states were given. */
export class TiledSource {
  readonly features = new Map<string, { properties: Properties; geometry: unknown }>();
  readonly stateKeys = new Set<string>();
  /** The painted values as last given, by feature: on the map for every key painted now. */
  private readonly states = new Map<string, Properties>();
  /** The optional keys painted now (`show`). */
  private readonly shown = new Set<string>();
  /** Readings painted by band: the feature-state key of each, and the bands' lower bounds. */
  private readonly banded: Map<string, { key: string; bounds: readonly number[] }>;

  /**
   * `painted`: the feature-state keys the layers read (`paintedKeys`); the other values stay off the map.
   * `optional`: keys that only a colouring chosen at times reads (a zone choropleth): kept, and on the map only
   * while shown, so that a zone summary that changes every second costs no frame while nobody looks at it.
   */
  constructor(
    readonly keys: readonly string[],
    private readonly painted: ReadonlySet<string>,
    private readonly optional: ReadonlySet<string> = new Set(),
    bands: Record<string, readonly number[]> = {},
  ) {
    this.banded = new Map(Object.entries(bands).map(([key, bounds]) => [key, { key: bandKey(key), bounds }]));
  }

  /** A key without a value (null: removed) is left out, so that `['has', key]` filters stay true to the data. */
  tiled(properties: Properties): Properties {
    const tiled: Properties = {};
    for (const key of this.keys) if (properties[key] !== undefined && properties[key] !== null) tiled[key] = properties[key];
    return tiled;
  }

  /** `tiled({ ...held, ...changes })`, without the merged object in between. */
  tiledUpdate(held: Properties, changes: Properties): Properties {
    const tiled: Properties = {};
    for (const key of this.keys) {
      const value = key in changes ? changes[key] : held[key];
      if (value !== undefined && value !== null) tiled[key] = value;
    }
    return tiled;
  }

  sameTiled(a: Properties, b: Properties): boolean {
    return this.keys.every((key) => a[key] === b[key]);
  }

  /** A feature's tiled properties as an `updateData` update (the tiled keys it lacks removed). */
  update(id: string, tiled: Properties): NonNullable<GeoJSONSourceDiff['update']>[number] {
    const gone = this.keys.filter((key) => !(key in tiled));
    return { id, addOrUpdateProperties: Object.entries(tiled).map(([key, value]) => ({ key, value })), ...(gone.length ? { removeProperties: gone } : {}) };
  }

  /**
   * The part of a feature's new state that differs from what the map holds, or undefined: the snapshot after
   * the layers (10,000 devices, nearly all as they were) then costs the map nothing to repaint.
   */
  state(id: string, properties: Properties): Properties | undefined {
    let held = this.states.get(id);
    if (!held) this.states.set(id, (held = {}));
    let changed: Properties | undefined;
    for (const reading in properties) {
      const banded = this.banded.get(reading);
      const key = banded ? banded.key : reading;
      const painted = this.painted.has(key) || this.shown.has(key);
      if (!painted && !this.optional.has(key)) continue;
      const value = banded ? bandOf(properties[reading], banded.bounds) : properties[reading];
      this.stateKeys.add(key);
      if (held[key] === value || (value === null && held[key] === undefined)) continue;
      held[key] = value;
      if (painted) (changed ??= {})[key] = value;
    }
    return changed;
  }

  /** Paints these optional keys from now on (and no other): every feature's current values for them, to set. */
  show(keys: readonly string[]): FeatureStates {
    this.shown.clear();
    for (const key of keys) if (this.optional.has(key)) this.shown.add(key);
    const states: FeatureStates = new Map();
    if (this.shown.size === 0) return states;
    for (const [id, held] of this.states) {
      const state: Properties = {};
      for (const key of this.shown) state[key] = held[key] ?? null;
      states.set(id, state);
    }
    return states;
  }

  forget(id: string): void {
    this.features.delete(id);
    this.states.delete(id);
  }
}

/** The index of the band a reading falls in (below the first bound: the first), or null for no number. */
function bandOf(value: Properties[string], bounds: readonly number[]): number | null {
  if (typeof value !== 'number') return null;
  let band = 0;
  while (band + 1 < bounds.length && value >= bounds[band + 1]!) band += 1;
  return band;
}

function setState(states: FeatureStates, id: string, state: Properties | undefined): void {
  if (state) states.set(id, state);
}

export interface SplitCollection {
  /** For `setData`; undefined when the tiles already hold exactly this (a history frame changes values only). */
  data: GeoJSON.FeatureCollection | undefined;
  states: FeatureStates;
}

/** A whole collection as tiles and the feature-states to set (keys it no longer has set to null). */
export function splitCollection(collection: FeatureCollection, source: TiledSource): SplitCollection {
  const states: FeatureStates = new Map();
  let same = collection.features.length === source.features.size;
  const previousKeys = [...source.stateKeys];
  const features = collection.features.map((feature) => {
    const properties = source.tiled(feature.properties);
    const known = source.features.get(feature.id);
    same &&= known !== undefined && known.geometry === feature.geometry && source.sameTiled(known.properties, properties);
    const state: Properties = {};
    for (const key of previousKeys) state[key] = null;
    setState(states, feature.id, source.state(feature.id, Object.assign(state, feature.properties)));
    return { ...feature, properties } as GeoJSON.Feature;
  });
  if (same) return { data: undefined, states };
  source.features.clear();
  for (const feature of features) source.features.set(String(feature.id), { properties: feature.properties as Properties, geometry: feature.geometry });
  return { data: { type: 'FeatureCollection', features }, states };
}

export interface SplitDiff {
  /** For `updateData`: features added, removed or moved. */
  tiles: GeoJSONSourceDiff | undefined;
  /** Tiled properties that changed on features that did not move (labels: they may wait while none shows). */
  labels: Map<string, Properties>;
  states: FeatureStates;
  removed: string[];
}

/** A diff from the live store as tile changes and feature-states; `source` is kept current. */
export function splitDiff(diff: GeoJSONSourceDiff, source: TiledSource): SplitDiff {
  const tiles: GeoJSONSourceDiff = {};
  const result: SplitDiff = { tiles: undefined, labels: new Map(), states: new Map(), removed: [] };
  for (const id of diff.remove ?? []) {
    source.forget(String(id));
    result.removed.push(String(id));
  }
  if (diff.remove?.length) tiles.remove = diff.remove;
  for (const feature of diff.add ?? []) {
    const id = String(feature.id);
    const properties = (feature.properties ?? {}) as Properties;
    const tiled = source.tiled(properties);
    source.features.set(id, { properties: tiled, geometry: feature.geometry });
    setState(result.states, id, source.state(id, properties));
    (tiles.add ??= []).push({ ...feature, properties: tiled });
  }
  for (const update of diff.update ?? []) {
    const id = String(update.id);
    const properties: Properties = {};
    for (const key of update.removeProperties ?? []) properties[key] = null;
    for (const { key, value } of update.addOrUpdateProperties ?? []) properties[key] = value;
    setState(result.states, id, source.state(id, properties));
    const known = source.features.get(id) ?? { properties: {}, geometry: undefined };
    const tiled = source.tiledUpdate(known.properties, properties);
    const changed = !source.sameTiled(known.properties, tiled);
    // Most updates (a reading) change neither: the entry the source holds stays, with no garbage made.
    if (changed || update.newGeometry || !source.features.has(id)) source.features.set(id, { properties: tiled, geometry: update.newGeometry ?? known.geometry });
    if (update.newGeometry) (tiles.update ??= []).push({ ...source.update(id, tiled), newGeometry: update.newGeometry });
    else if (changed) result.labels.set(id, tiled);
  }
  if (tiles.add || tiles.remove || tiles.update) result.tiles = tiles;
  return result;
}
