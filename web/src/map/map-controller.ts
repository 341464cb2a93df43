/**
 * The map, imperatively: sources and layers, live diffs, visibility, selection, the pulse of new
 * incidents. React components hold one of these and never touch maplibre directly.
 */
import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { GeoJSONSource, MapGeoJSONFeature } from 'maplibre-gl';
import type { FeatureCollection, LayerName } from '../api/types.js';
import { addIncidentIcons } from '../incidents/icons.js';
import { interactiveLayers, layerGroups, type LayerGroup } from '../layers/definitions.js';
import type { SourceDiffs } from '../live/live-store.js';
import { baseStyle, CITY_ATTRIBUTION, ZONE_ATTRIBUTION } from './base-style.js';
import { choroplethColor, CHOROPLETHS } from './choropleth.js';
import { fontFaces } from './fonts.js';
import { labelPoints } from './label-points.js';

/** Da Nang's mainland; Huyện Hoàng Sa stays in the zones but not in the opening view. */
export const CITY_BOUNDS: [[number, number], [number, number]] = [[107.82, 15.92], [108.34, 16.22]];

const OWN_SOURCES: LayerName[] = ['traffic', 'environment', 'flood', 'parking', 'streetlights', 'incidents'];
const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
const PULSE_FRAME_MS = 80;
const PULSE_PERIOD_MS = 1600;

maplibregl.setWorkerUrl(new URL(workerUrl, globalThis.location?.href ?? 'http://localhost/').href);

export interface Selection {
  source: LayerName;
  id: string;
}

export interface MapControllerOptions {
  container: HTMLElement;
  styleUrl?: string | null;
  language: string;
  /** maplibre's own control labels, translated. */
  locale: Record<string, string>;
  onSelect: (selection: Selection | undefined) => void;
  onPick: (lngLat: { lon: number; lat: number }) => void;
}

export class MapController {
  readonly map: maplibregl.Map;
  readonly groups: LayerGroup[] = layerGroups();
  readonly ready: Promise<void>;
  private selection: Selection | undefined;
  private picking = false;
  private freshIds = new Set<string>();
  private pulseTimer: ReturnType<typeof setInterval> | undefined;
  private readonly hidden = new Set<string>();

  constructor(private readonly options: MapControllerOptions) {
    this.map = new maplibregl.Map({
      container: options.container,
      style: options.styleUrl ?? baseStyle(),
      bounds: CITY_BOUNDS,
      fitBoundsOptions: { padding: 16 },
      attributionControl: { compact: false, customAttribution: options.styleUrl ? [ZONE_ATTRIBUTION, CITY_ATTRIBUTION] : undefined },
      locale: options.locale,
      maxZoom: 19,
      dragRotate: false,
      pitchWithRotate: false,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
    this.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    this.ready = new Promise((resolve) => this.map.once('load', () => {
      this.install();
      resolve();
    }));
    this.map.on('click', (event) => this.click(event.point, event.lngLat));
    this.map.on('mousemove', (event) => {
      const hit = this.picking || this.hitTest(event.point).length > 0;
      this.map.getCanvas().style.cursor = this.picking ? 'crosshair' : hit ? 'pointer' : '';
    });
    if (globalThis.localStorage?.getItem('city.exposeMap') === '1') (globalThis as { __cityMap?: maplibregl.Map }).__cityMap = this.map;
  }

  destroy(): void {
    clearInterval(this.pulseTimer);
    this.map.remove();
  }

  /** Our sources and layers on top of whatever base style loaded (ours, or a city's own). */
  private install(): void {
    if (this.options.styleUrl) this.map.setFontFaces({ ...(this.map.getFontFaces() ?? {}), ...fontFaces() });
    if (!this.map.getSource('zones')) this.map.addSource('zones', { type: 'geojson', data: EMPTY, promoteId: 'id', attribution: ZONE_ATTRIBUTION });
    for (const source of OWN_SOURCES) this.map.addSource(source, { type: 'geojson', data: EMPTY, promoteId: 'id' });
    this.map.addSource('zone-labels', { type: 'geojson', data: EMPTY });
    addIncidentIcons(this.map);
    for (const group of this.groups) {
      for (const layer of group.layers) {
        // A zone colouring goes under the river and coast of our own base map, so that water stays water.
        const before = layer.id === 'zone-fill' && this.map.getLayer('river') ? 'river' : undefined;
        this.map.addLayer({ ...layer, layout: { ...layer.layout, visibility: group.visible ? 'visible' : 'none' } } as maplibregl.LayerSpecification, before);
      }
    }
    this.setLanguage(this.options.language);
  }

  setData(source: LayerName, collection: FeatureCollection): void {
    void this.ready.then(() => {
      this.geojson(source)?.setData(collection as GeoJSON.FeatureCollection);
      if (source === 'zones') this.map.getSource<GeoJSONSource>('zone-labels')?.setData(labelPoints(collection));
    });
  }

  applyDiffs(diffs: SourceDiffs, skip: ReadonlySet<LayerName> = new Set()): void {
    void this.ready.then(() => {
      for (const [source, diff] of Object.entries(diffs) as [LayerName, maplibregl.GeoJSONSourceDiff][]) {
        if (!skip.has(source)) void this.geojson(source)?.updateData(diff);
      }
    });
  }

  setGroupVisible(id: LayerGroup['id'], visible: boolean): void {
    const group = this.groups.find((candidate) => candidate.id === id);
    if (!group) return;
    group.visible = visible;
    void this.ready.then(() => this.applyVisibility(group));
  }

  /** Hides whole groups regardless of their toggles (the history view shows only what it can replay). */
  suppress(ids: readonly LayerGroup['id'][]): void {
    this.hidden.clear();
    for (const id of ids) this.hidden.add(id);
    void this.ready.then(() => this.groups.forEach((group) => this.applyVisibility(group)));
  }

  private applyVisibility(group: LayerGroup): void {
    const visibility = group.visible && !this.hidden.has(group.id) ? 'visible' : 'none';
    for (const layer of group.layers) this.map.setLayoutProperty(layer.id, 'visibility', visibility);
  }

  /** Colours the zones by a metric of `CHOROPLETHS`, or only outlines them. */
  setChoropleth(metric: string | undefined): void {
    void this.ready.then(() => {
      const choropleth = metric ? CHOROPLETHS[metric] : undefined;
      this.map.setPaintProperty('zone-fill', 'fill-color', choropleth ? choroplethColor(choropleth) : '#000000');
      this.map.setPaintProperty('zone-fill', 'fill-opacity', choropleth ? 0.4 : 0);
    });
  }

  setLanguage(language: string): void {
    void this.ready.then(() => this.map.setLayoutProperty('traffic-label', 'text-field', ['coalesce', ['get', language === 'en' ? 'nameEn' : 'name'], ['get', 'name']]));
  }

  select(selection: Selection | undefined): void {
    void this.ready.then(() => {
      if (this.selection) this.map.setFeatureState(this.selection, { selected: false });
      this.selection = selection;
      if (selection) this.map.setFeatureState(selection, { selected: true });
    });
  }

  flyTo(lon: number, lat: number): void {
    this.map.flyTo({ center: [lon, lat], zoom: Math.max(this.map.getZoom(), 15), speed: 1.6 });
  }

  /** The next click on the map picks a location (reporting an incident) instead of a feature. */
  setPicking(picking: boolean): void {
    this.picking = picking;
    this.map.getCanvas().style.cursor = picking ? 'crosshair' : '';
  }

  /** Incidents that pulse: new ones nobody has looked at yet. */
  setFresh(ids: Iterable<string>): void {
    void this.ready.then(() => {
      const next = new Set(ids);
      for (const id of this.freshIds) if (!next.has(id)) this.map.setFeatureState({ source: 'incidents', id }, { fresh: false });
      for (const id of next) this.map.setFeatureState({ source: 'incidents', id }, { fresh: true });
      this.freshIds = next;
      if (next.size > 0 && !this.pulseTimer) this.pulseTimer = setInterval(() => this.pulse(), PULSE_FRAME_MS);
      if (next.size === 0 && this.pulseTimer) {
        clearInterval(this.pulseTimer);
        this.pulseTimer = undefined;
      }
    });
  }

  private pulse(): void {
    const phase = (Date.now() % PULSE_PERIOD_MS) / PULSE_PERIOD_MS;
    this.map.setPaintProperty('incident-pulse', 'circle-radius', 14 + 18 * phase);
    this.map.setPaintProperty('incident-pulse', 'circle-stroke-opacity', ['case', ['boolean', ['feature-state', 'fresh'], false], 1 - phase, 0]);
  }

  private geojson(source: LayerName): GeoJSONSource | undefined {
    return this.map.getSource<GeoJSONSource>(source);
  }

  private hitTest(point: maplibregl.Point): MapGeoJSONFeature[] {
    const layers = interactiveLayers(this.groups.filter((group) => group.visible && !this.hidden.has(group.id))).filter((id) => this.map.getLayer(id));
    if (layers.length === 0) return [];
    const box: [maplibregl.PointLike, maplibregl.PointLike] = [[point.x - 4, point.y - 4], [point.x + 4, point.y + 4]];
    return this.map.queryRenderedFeatures(box, { layers });
  }

  private click(point: maplibregl.Point, lngLat: maplibregl.LngLat): void {
    if (this.picking) {
      this.setPicking(false);
      this.options.onPick({ lon: lngLat.lng, lat: lngLat.lat });
      return;
    }
    const [hit] = this.hitTest(point);
    this.options.onSelect(hit?.id !== undefined ? { source: hit.source as LayerName, id: String(hit.id) } : undefined);
  }
}
