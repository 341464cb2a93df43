import { useEffect, useRef } from 'react';
import { useTranslation } from 'react-i18next';
import { MapController, type MapControllerOptions } from './map-controller.js';

/** maplibre's own control strings, from our translation files. */
const CONTROL_STRINGS = ['NavigationControl.ZoomIn', 'NavigationControl.ZoomOut', 'NavigationControl.ResetBearing', 'ScaleControl.Meters', 'ScaleControl.Kilometers', 'AttributionControl.ToggleAttribution', 'AttributionControl.MapFeedback'];

/** The credits for the data the map draws: zone boundaries (GPL-3.0) and the project's own water and roads. */
const ATTRIBUTIONS = ['map.attributionZones', 'map.attributionCity'];

export interface MapViewProps extends Omit<MapControllerOptions, 'container' | 'language' | 'locale' | 'attribution'> {
  onReady: (controller: MapController) => void;
}

/** Mounts the map once; everything after goes through the controller it hands up. */
export function MapView({ styleUrl, visible, onSelect, onPick, onReady }: MapViewProps) {
  const { t, i18n } = useTranslation();
  const container = useRef<HTMLDivElement>(null);
  const callbacks = useRef({ onSelect, onPick });
  callbacks.current = { onSelect, onPick };
  const controller = useRef<MapController | undefined>(undefined);

  useEffect(() => {
    if (!container.current) return;
    const locale = Object.fromEntries(CONTROL_STRINGS.map((key) => [key, t(`map.${key}`)]));
    const created = new MapController({
      container: container.current,
      styleUrl,
      visible,
      language: i18n.language,
      locale,
      attribution: ATTRIBUTIONS.map((key) => t(key)),
      onSelect: (selection) => callbacks.current.onSelect(selection),
      onPick: (lngLat) => callbacks.current.onPick(lngLat),
    });
    controller.current = created;
    onReady(created);
    return () => {
      created.destroy();
      controller.current = undefined;
    };
    // The map is created once per mount; language changes go through setLanguage below, and toggles through the controller.
  }, [styleUrl]);

  useEffect(() => controller.current?.setLanguage(i18n.language, ATTRIBUTIONS.map((key) => t(key))), [i18n.language, t]);

  return <div className="map" ref={container} role="region" aria-label={t('map.label')} data-testid="map" />;
}
