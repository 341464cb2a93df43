/**
 * Runtime configuration, so that a city re-points the console without rebuilding it: `config.json` beside
 * index.html (edit it in web/dist, or serve your own), over the build-time `VITE_MAP_STYLE_URL`.
 */
import { takeEarly } from './api/early-requests.js';

export interface ConsoleConfig {
  /** A MapLibre style of the city's own tile server; unset: the console's built-in offline style. */
  mapStyleUrl: string | null;
}

export const CONFIG_PATH = './config.json';
/** Never from the cache: an edited config.json takes effect at the next load. */
export const CONFIG_REQUEST: RequestInit = { cache: 'no-store' };

export async function loadConfig(): Promise<ConsoleConfig> {
  const fallback: ConsoleConfig = { mapStyleUrl: import.meta.env.VITE_MAP_STYLE_URL || null };
  try {
    const response = await (takeEarly(CONFIG_PATH, undefined) ?? fetch(CONFIG_PATH, CONFIG_REQUEST));
    if (!response.ok || !response.headers.get('content-type')?.includes('json')) return fallback;
    const config = (await response.json()) as Partial<ConsoleConfig>;
    return { mapStyleUrl: typeof config.mapStyleUrl === 'string' && config.mapStyleUrl ? config.mapStyleUrl : fallback.mapStyleUrl };
  } catch {
    return fallback;
  }
}
