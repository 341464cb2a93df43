/**
 * Finding a device, road segment or zone by id or name, so that everything on the map can be reached
 * from the keyboard. Matching ignores case and Vietnamese diacritics ("hai chau" finds "Hải Châu").
 */
import type { LayerName } from '../api/types.js';
import type { LiveStore } from '../live/live-store.js';

export interface SearchResult {
  source: LayerName;
  id: string;
  name: string;
  /** What it is, as a translation key (`kind.*`, `panel.segment`, `panel.zone`). */
  kindKey: string;
}

const SEARCHED: LayerName[] = ['zones', 'traffic', 'environment', 'flood', 'parking', 'streetlights'];

export function fold(text: string): string {
  return text.normalize('NFD').replace(/\p{M}/gu, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase();
}

/** Best first: an id or name that starts with the query before one that only contains it. */
export function searchFeatures(store: LiveStore, query: string, language: string, limit = 8): SearchResult[] {
  const wanted = fold(query.trim());
  if (wanted.length < 2) return [];
  const starts: SearchResult[] = [];
  const contains: SearchResult[] = [];
  for (const source of SEARCHED) {
    for (const feature of store.collection(source).features) {
      const properties = feature.properties;
      const name = String((language === 'en' && properties.nameEn) || properties.name || feature.id);
      const words = [feature.id, name, String(properties.name ?? '')].map(fold);
      const kindKey = source === 'zones' ? 'panel.zone' : source === 'traffic' ? 'panel.segment' : `kind.${String(properties.kind)}`;
      const result = { source, id: feature.id, name, kindKey };
      if (words.some((word) => word.startsWith(wanted))) starts.push(result);
      else if (words.some((word) => word.includes(wanted))) contains.push(result);
      if (starts.length >= limit) return starts;
    }
  }
  return [...starts, ...contains].slice(0, limit);
}
