/**
 * The page's first script, a few kilobytes that run while the bundle still downloads: it asks for the
 * configuration and, for a signed-in session, the map's font files (map/fonts.ts) and layers
 * (api/early-requests.ts). The fonts and the small layers go at once. The device layers (megabytes the api
 * takes a while to write) go as soon as the bundle has arrived: sent together with it, they held it back for
 * as long, and the console needs the bundle first.
 */
import { layerPath } from '../api/client.js';
import { requestEarly } from '../api/early-requests.js';
import { LAYER_NAMES, type LayerName } from '../api/types.js';
import { loadSession } from '../auth/session.js';
import { CONFIG_PATH, CONFIG_REQUEST } from '../config.js';
import { FONT_FILE_PATHS } from '../map/font-files.js';

const SMALL: readonly LayerName[] = ['zones', 'incidents', 'traffic'];

/** Calls `then` once every other module script of the page has been fetched. */
function afterScripts(then: () => void): void {
  const own = new URL(import.meta.url).href;
  const pending = new Set([...document.querySelectorAll<HTMLScriptElement>('script[type="module"][src]')].map((script) => script.src).filter((src) => src !== own));
  const check = (names: string[]) => {
    for (const name of names) pending.delete(name);
    if (pending.size > 0) return false;
    then();
    return true;
  };
  if (check(performance.getEntriesByType('resource').map((entry) => entry.name))) return;
  const observer = new PerformanceObserver((list) => {
    if (check(list.getEntries().map((entry) => entry.name))) observer.disconnect();
  });
  observer.observe({ type: 'resource' });
}

requestEarly(CONFIG_PATH, undefined, CONFIG_REQUEST);
const session = loadSession();
if (session) {
  for (const path of FONT_FILE_PATHS) requestEarly(path, undefined);
  for (const name of SMALL) requestEarly(layerPath(name), session.token);
  afterScripts(() => {
    for (const name of LAYER_NAMES) if (!SMALL.includes(name)) requestEarly(layerPath(name), session.token);
  });
}
