/**
 * Runtime configuration, so that a city re-points the console without rebuilding it: `config.json` beside
 * index.html (edit it in web/dist, or serve your own), over the build-time `VITE_MAP_STYLE_URL`.
 */
export interface ConsoleConfig {
  /** A MapLibre style of the city's own tile server; unset: the console's built-in offline style. */
  mapStyleUrl: string | null;
}

export async function loadConfig(): Promise<ConsoleConfig> {
  const fallback: ConsoleConfig = { mapStyleUrl: import.meta.env.VITE_MAP_STYLE_URL || null };
  try {
    const response = await fetch('./config.json', { cache: 'no-store' });
    if (!response.ok || !response.headers.get('content-type')?.includes('json')) return fallback;
    const config = (await response.json()) as Partial<ConsoleConfig>;
    return { mapStyleUrl: typeof config.mapStyleUrl === 'string' && config.mapStyleUrl ? config.mapStyleUrl : fallback.mapStyleUrl };
  } catch {
    return fallback;
  }
}
