/**
 * The map, imperatively: sources and layers, live diffs, visibility, selection, the pulse of new
 * incidents. React components hold one of these and never touch maplibre directly.
 */
import * as maplibregl from 'maplibre-gl';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import type { GeoJSONSource, MapGeoJSONFeature } from 'maplibre-gl';
import { LAYER_NAMES, type FeatureCollection, type LayerName, type Properties } from '../api/types.js';
import { addIncidentIcons } from '../incidents/icons.js';
import { interactiveLayers, LABEL_MINZOOM, layerGroups, PAINTED_BANDS, type LayerGroup } from '../layers/definitions.js';
import type { FreshIncident, SourceDiffs } from '../live/live-store.js';
import { baseStyle } from './base-style.js';
import { choroplethColor, CHOROPLETHS } from './choropleth.js';
import { paintedKeys, splitCollection, splitDiff, TILED_KEYS, TiledSource, type FeatureStates } from './feature-state.js';
import { fontFaces } from './fonts.js';
import { spaceFramesUntilMoved, type FrameSpacing } from './frame-spacing.js';
import { labelPoints } from './label-points.js';
import { labelScale, scaleSize, type Size } from './label-scale.js';
import { PulseMarkers } from './pulse-markers.js';

/** Da Nang's mainland; Huyện Hoàng Sa stays in the zones but not in the opening view. */
export const CITY_BOUNDS: [[number, number], [number, number]] = [[107.82, 15.92], [108.34, 16.22]];

const OWN_SOURCES: LayerName[] = ['traffic', 'environment', 'flood', 'parking', 'streetlights', 'incidents'];
/**
 * Sources of points only. maplibre draws a point (a circle, a label) from the one tile it falls in and skips
 * the copies that a tile buffer adds to its neighbours, so for these a buffer is only work: a device near a
 * tile's edge was cut into two or four tiles by the worker, and sent and indexed as often.
 */
const POINT_SOURCES: ReadonlySet<string> = new Set<string>(['environment', 'flood', 'parking', 'streetlights', 'incidents', 'zone-labels']);
const EMPTY: GeoJSON.FeatureCollection = { type: 'FeatureCollection', features: [] };
/** Hover hit tests at most this often: `queryRenderedFeatures` over 10,000 points is not free. */
const HOVER_MS = 100;
/** While the city's first data loads, at most one frame in this long (frame-spacing.ts). */
const LOADING_FRAME_GAP_MS = 600;
/** The labels of named places, shown in the console's language. */
const NAMED_LABELS = ['traffic-label', 'water-label'];

maplibregl.setWorkerUrl(new URL(workerUrl, globalThis.location?.href ?? 'http://localhost/').href);

export interface Selection {
  source: LayerName;
  id: string;
}

export interface MapControllerOptions {
  container: HTMLElement;
  styleUrl?: string | null;
  /** The groups shown as the map starts (`layer-choice.ts`), by group id; a group left out keeps its default. */
  visible?: Readonly<Record<string, boolean>>;
  language: string;
  /** maplibre's own control labels, translated. */
  locale: Record<string, string>;
  /** The data sources to credit, in the language shown. */
  attribution: string[];
  onSelect: (selection: Selection | undefined) => void;
  onPick: (lngLat: { lon: number; lat: number }) => void;
}

export class MapController {
  readonly map: maplibregl.Map;
  readonly groups: LayerGroup[] = layerGroups();
  readonly ready: Promise<void>;
  private selection: Selection | undefined;
  private picking = false;
  private readonly pulses: PulseMarkers;
  private hover: { point: maplibregl.Point; timer?: ReturnType<typeof setTimeout> } | undefined;
  private attribution: maplibregl.AttributionControl;
  /** Each symbol layer's `text-size` as defined, before scaling for the screen. */
  private readonly textSizes = new Map<string, Size>();
  private scale = rootLabelScale();
  /** Our layers are on the map (the sizes above name layers that `install` adds). */
  private installed = false;
  private language: string;
  private readonly hidden = new Set<string>();
  /**
   * Sources whose first data the worker has taken in. Until then their layers stay hidden (the base map's
   * land too, which draws the zones): a shown layer has its source cut into tiles, and tiles cut from the
   * empty placeholder would all be cut again when the data arrives (one worker does both, so a city's first
   * map waited for the second cutting).
   */
  private readonly filled = new Set<string>();
  /** The built-in style, held back until the city's data is in (`showStyle`); undefined once shown or for a city's own. */
  private heldStyle: maplibregl.StyleSpecification | undefined;
  /** The base map's layers that draw our zones source. */
  private readonly baseOnZones: string[] = [];
  /** The sources painted from feature-state, and what their tiles hold (see feature-state.ts). */
  private readonly tiled: Map<LayerName, TiledSource>;
  /** Label changes held while the map is zoomed out past every label that shows them. */
  private readonly pendingLabels = new Map<LayerName, Map<string, Properties>>();
  /** Until every source's first data is drawn, or someone moves the map and wants every frame. */
  private readonly loadingFrames: FrameSpacing;

  constructor(private readonly options: MapControllerOptions) {
    this.language = options.language;
    for (const group of this.groups) group.visible = options.visible?.[group.id] ?? group.visible;
    const painted = paintedKeys(this.groups.flatMap((group) => group.layers.map((layer) => layer.paint)));
    // A zone colouring is painted only while chosen (`setChoropleth`).
    const colourings = paintedKeys(Object.values(CHOROPLETHS).map((choropleth) => choroplethColor(choropleth)));
    this.tiled = new Map(Object.entries(TILED_KEYS).map(([source, keys]) => [source as LayerName, new TiledSource(keys, painted, source === 'zones' ? colourings : undefined, PAINTED_BANDS[source as LayerName])]));
    const ours = baseStyle();
    // Without its sea and river, our base map has nothing to draw before the city's data (the land is the
    // zones), yet each frame of it held the main thread for the software GPU while the page started: the map
    // gets its style with the first data. A city's own style is loaded from the start, since it draws on its own.
    if (!options.styleUrl) this.heldStyle = this.withOurs(ours);
    this.map = new maplibregl.Map({
      container: options.container,
      style: options.styleUrl ?? undefined,
      bounds: CITY_BOUNDS,
      fitBoundsOptions: { padding: 16 },
      attributionControl: false,
      locale: options.locale,
      maxZoom: 19,
      // Labels fading in after every live update would keep the map repainting between deltas.
      fadeDuration: 0,
      dragRotate: false,
      pitchWithRotate: false,
    });
    this.map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'bottom-right');
    this.map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-left');
    this.attribution = new maplibregl.AttributionControl({ compact: false, customAttribution: options.attribution });
    this.map.addControl(this.attribution);
    this.loadingFrames = spaceFramesUntilMoved(this.map, { gapMs: LOADING_FRAME_GAP_MS, complete: () => this.allFilled() && this.map.areTilesLoaded() });
    // The style is enough to add our sources: waiting for `load` (its own tiles and glyphs drawn) held the
    // city's data back from the worker for as long.
    this.ready = new Promise((resolve) => this.map.once('style.load', () => {
      this.install();
      resolve();
    }));
    this.map.on('click', (event) => this.click(event.point, event.lngLat));
    this.pulses = new PulseMarkers(this.map);
    this.map.on('mousemove', (event) => this.hovered(event.point));
    this.map.on('resize', () => this.scaleLabels());
    this.map.on('zoomend', () => this.flushLabels());
    if (globalThis.localStorage?.getItem('city.exposeMap') === '1') (globalThis as { __cityMap?: maplibregl.Map }).__cityMap = this.map;
  }

  destroy(): void {
    clearTimeout(this.hover?.timer);
    this.loadingFrames.end();
    this.map.remove();
  }

  /**
   * A layer as added to the map: its labels at the screen's scale and in the language. Set in the spec, not
   * afterwards — a layout change on the map re-cuts every tile of the layer's source.
   */
  private labelled<T extends maplibregl.LayerSpecification>(layer: T): T {
    if (layer.type !== 'symbol') return layer;
    const layout: maplibregl.SymbolLayerSpecification['layout'] = { ...layer.layout };
    const size = layout['text-size'];
    if (typeof size === 'number' || Array.isArray(size)) {
      this.textSizes.set(layer.id, size as Size);
      layout['text-size'] = scaleSize(size as Size, this.scale);
    }
    if (NAMED_LABELS.includes(layer.id)) layout['text-field'] = nameField(this.language);
    return { ...layer, layout };
  }

  /** A base layer on the zones, hidden until they are in (see `filled`). */
  private hiddenUntilZones<T extends maplibregl.LayerSpecification>(layer: T): T {
    if (!('source' in layer) || layer.source !== 'zones') return layer;
    this.baseOnZones.push(layer.id);
    return { ...layer, layout: { ...layer.layout, visibility: 'none' } };
  }

  private showStyle(): void {
    if (!this.heldStyle) return;
    this.map.setStyle(this.heldStyle);
    this.heldStyle = undefined;
  }

  /**
   * The built-in base map with our sources and layers in it, so that the map takes them as one style: added
   * one by one, each layer and source was checked against the whole style serialized again (a tenth of a
   * second of main thread in software WebGL's slow starts, all before the first data could be drawn).
   */
  private withOurs(base: maplibregl.StyleSpecification): maplibregl.StyleSpecification {
    const sources: maplibregl.StyleSpecification['sources'] = { ...base.sources };
    for (const [id, source] of this.ourSources()) sources[id] ??= source;
    const layers = base.layers.map((layer) => this.hiddenUntilZones(this.labelled(layer)));
    for (const [layer, before] of this.ourLayers()) {
      const at = before ? layers.findIndex((candidate) => candidate.id === before) : -1;
      layers.splice(at < 0 ? layers.length : at, 0, layer);
    }
    return { ...base, sources, layers };
  }

  private ourSources(): [string, maplibregl.GeoJSONSourceSpecification][] {
    return [
      ['zones', { type: 'geojson', data: EMPTY, promoteId: 'id' }],
      ...OWN_SOURCES.map((source): [string, maplibregl.GeoJSONSourceSpecification] => [source, { type: 'geojson', data: EMPTY, promoteId: 'id', ...bufferFor(source) }]),
      ['zone-labels', { type: 'geojson', data: EMPTY, ...bufferFor('zone-labels') }],
    ];
  }

  /** Each of our layers as added to the map, and the base map's layer it goes under, if any. */
  private ourLayers(): [maplibregl.LayerSpecification, string | undefined][] {
    return this.groups.flatMap((group) =>
      group.layers.map((layer): [maplibregl.LayerSpecification, string | undefined] => [
        this.labelled({ ...layer, layout: { ...layer.layout, visibility: this.visibility(group) } } as maplibregl.LayerSpecification),
        // A zone colouring goes under the river and coast of our own base map, so that water stays water.
        layer.id === 'zone-fill' ? 'river' : undefined,
      ]),
    );
  }

  /** Our sources and layers on top of whatever base style loaded (ours has them already, see `withOurs`). */
  private install(): void {
    if (this.options.styleUrl) {
      this.map.setFontFaces({ ...(this.map.getFontFaces() ?? {}), ...fontFaces() });
      // A city's own style comes as it is: its labels are scaled and translated on the map.
      for (const layer of this.map.getStyle().layers) {
        const size = layer.type === 'symbol' ? this.map.getLayoutProperty(layer.id, 'text-size') : undefined;
        if (typeof size === 'number' || Array.isArray(size)) this.textSizes.set(layer.id, size as Size);
      }
      for (const id of this.textSizes.keys()) this.map.setLayoutProperty(id, 'text-size', scaleSize(this.textSizes.get(id)!, this.scale));
      for (const id of NAMED_LABELS) if (this.map.getLayer(id)) this.map.setLayoutProperty(id, 'text-field', nameField(this.language));
      for (const [id, source] of this.ourSources()) if (!this.map.getSource(id)) this.map.addSource(id, source);
      for (const [layer, before] of this.ourLayers()) this.map.addLayer(layer, before && this.map.getLayer(before) ? before : undefined);
    }
    addIncidentIcons(this.map);
    this.installed = true;
    this.scaleLabels();
  }

  private scaleLabels(): void {
    if (!this.installed) return;
    const scale = rootLabelScale();
    if (scale === this.scale) return;
    this.scale = scale;
    for (const [id, size] of this.textSizes) this.map.setLayoutProperty(id, 'text-size', scaleSize(size, scale));
  }

  setData(source: LayerName, collection: FeatureCollection): void {
    this.showStyle();
    void this.ready.then(() => {
      const loads = this.load(source, collection);
      if (this.filled.has(source)) return;
      void Promise.all(loads)
        .catch(() => undefined)
        .then(() => {
          this.filled.add(source);
          if (this.allFilled()) this.map.once('idle', () => this.loadingFrames.end());
          if (source === 'zones') for (const id of this.baseOnZones) this.map.setLayoutProperty(id, 'visibility', 'visible');
          for (const group of this.groups) if (group.source === source) this.applyVisibility(group);
        });
    });
  }

  private allFilled(): boolean {
    return LAYER_NAMES.every((name) => this.filled.has(name));
  }

  /** The collection into the source (and the zones' label points), as the worker's loads of it. */
  private load(source: LayerName, collection: FeatureCollection): Promise<void>[] {
    const tiled = this.tiled.get(source);
    if (!tiled) return [this.geojson(source)?.setData(collection as GeoJSON.FeatureCollection) ?? Promise.resolve()];
    const { data, states } = splitCollection(collection, tiled);
    this.pendingLabels.delete(source);
    this.setStates(source, states);
    if (!data) return [];
    const loads = [this.geojson(source)?.setData(data) ?? Promise.resolve()];
    if (source === 'zones') loads.push(this.map.getSource<GeoJSONSource>('zone-labels')?.setData(labelPoints(collection)) ?? Promise.resolve());
    return loads;
  }

  applyDiffs(diffs: SourceDiffs, skip: ReadonlySet<LayerName> = new Set()): void {
    void this.ready.then(() => {
      for (const [source, diff] of Object.entries(diffs) as [LayerName, maplibregl.GeoJSONSourceDiff][]) {
        if (skip.has(source)) continue;
        const tiled = this.tiled.get(source);
        if (!tiled) {
          void this.geojson(source)?.updateData(diff);
          continue;
        }
        const changes = splitDiff(diff, tiled);
        const pending = this.pendingLabels.get(source) ?? new Map<string, Properties>();
        for (const id of changes.removed) pending.delete(id);
        for (const [id, tiled] of changes.labels) pending.set(id, tiled);
        this.pendingLabels.set(source, pending);
        if (changes.tiles) void this.geojson(source)?.updateData(changes.tiles);
        for (const id of changes.removed) this.map.removeFeatureState({ source, id });
        this.setStates(source, changes.states);
      }
      this.flushLabels();
    });
  }

  private setStates(source: LayerName, states: FeatureStates): void {
    for (const [id, state] of states) this.map.setFeatureState({ source, id }, state);
  }

  /** Label changes re-cut a source's tiles: only while a label can show, all at once. */
  private flushLabels(): void {
    if (this.map.getZoom() < LABEL_MINZOOM) return;
    for (const [source, pending] of this.pendingLabels) {
      if (pending.size === 0) continue;
      const tiled = this.tiled.get(source)!;
      void this.geojson(source)?.updateData({ update: [...pending].map(([id, properties]) => tiled.update(id, properties)) });
      pending.clear();
    }
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

  private visibility(group: LayerGroup): 'visible' | 'none' {
    return group.visible && !this.hidden.has(group.id) && this.filled.has(group.source) ? 'visible' : 'none';
  }

  private applyVisibility(group: LayerGroup): void {
    const visibility = this.visibility(group);
    for (const layer of group.layers) this.map.setLayoutProperty(layer.id, 'visibility', visibility);
    if (group.id === 'incidents') this.pulses.setVisible(visibility === 'visible');
  }

  /** Colours the zones by a metric of `CHOROPLETHS`, or only outlines them. */
  setChoropleth(metric: string | undefined): void {
    void this.ready.then(() => {
      const choropleth = metric ? CHOROPLETHS[metric] : undefined;
      this.setStates('zones', this.tiled.get('zones')!.show(choropleth ? [choropleth.property] : []));
      this.map.setPaintProperty('zone-fill', 'fill-color', choropleth ? choroplethColor(choropleth) : '#000000');
      this.map.setPaintProperty('zone-fill', 'fill-opacity', choropleth ? 0.4 : 0);
    });
  }

  /** Road and water names in the language (`nameEn` where the data has one), and the credits in its words. */
  setLanguage(language: string, attribution: string[]): void {
    void this.ready.then(() => {
      this.language = language;
      for (const layer of NAMED_LABELS) if (this.map.getLayer(layer)) this.map.setLayoutProperty(layer, 'text-field', nameField(language));
      // The control takes its strings at construction: a new one replaces it.
      this.map.removeControl(this.attribution);
      this.attribution = new maplibregl.AttributionControl({ compact: false, customAttribution: attribution });
      this.map.addControl(this.attribution);
    });
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
  setFresh(incidents: readonly FreshIncident[]): void {
    void this.ready.then(() => this.pulses.set(incidents));
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

  /** The pointer over a feature: coalesced, and skipped while the map moves (nothing is under a still pointer then). */
  private hovered(point: maplibregl.Point): void {
    if (this.hover) {
      this.hover.point = point;
      return;
    }
    this.hover = { point };
    this.hover.timer = setTimeout(() => {
      const latest = this.hover!.point;
      this.hover = undefined;
      if (this.map.isMoving()) return;
      const hit = this.picking || this.hitTest(latest).length > 0;
      this.map.getCanvas().style.cursor = this.picking ? 'crosshair' : hit ? 'pointer' : '';
    }, HOVER_MS);
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

function bufferFor(source: string): { buffer?: number } {
  return POINT_SOURCES.has(source) ? { buffer: 0 } : {};
}

function nameField(language: string): maplibregl.ExpressionSpecification {
  return ['coalesce', ['get', language === 'en' ? 'nameEn' : 'name'], ['get', 'name']];
}

/** The label scale for the root font size styles.css gives this screen. */
function rootLabelScale(): number {
  return labelScale(parseFloat(getComputedStyle(document.documentElement).fontSize) || 15);
}
