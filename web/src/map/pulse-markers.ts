/**
 * The ring that pulses around a new incident until someone looks at it. It is a DOM marker animated by
 * CSS, not a map layer: repainting a layer for an animation would keep maplibre redrawing every source
 * (10,000 devices) for as long as the incident is new, and the map would never go idle.
 */
import * as maplibregl from 'maplibre-gl';
import type { FreshIncident } from '../live/live-store.js';
import { SEVERITY_COLORS } from '../layers/palette.js';

export class PulseMarkers {
  private readonly markers = new Map<string, maplibregl.Marker>();
  private visible = true;

  constructor(private readonly map: maplibregl.Map) {}

  set(incidents: readonly FreshIncident[]): void {
    const next = new Map(incidents.map((incident) => [incident.id, incident]));
    for (const [id, marker] of this.markers) {
      if (next.has(id)) continue;
      marker.remove();
      this.markers.delete(id);
    }
    for (const incident of next.values()) {
      const known = this.markers.get(incident.id);
      if (known) {
        known.setLngLat([incident.lon, incident.lat]);
        continue;
      }
      const marker = new maplibregl.Marker({ element: pulseElement(incident) }).setLngLat([incident.lon, incident.lat]);
      if (this.visible) marker.addTo(this.map);
      this.markers.set(incident.id, marker);
    }
  }

  setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    for (const marker of this.markers.values()) {
      if (visible) marker.addTo(this.map);
      else marker.remove();
    }
  }
}

function pulseElement(incident: FreshIncident): HTMLElement {
  const element = document.createElement('div');
  element.className = 'incident-pulse';
  element.dataset.incident = incident.id;
  element.setAttribute('aria-hidden', 'true');
  // The marker positions the outer element with a transform; the ring inside is free to animate its own.
  const ring = document.createElement('div');
  ring.className = 'incident-pulse-ring';
  ring.style.setProperty('--pulse-color', SEVERITY_COLORS[incident.severity]);
  element.append(ring);
  return element;
}
