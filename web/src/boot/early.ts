/**
 * The page's first script, a few kilobytes that run while the bundle still downloads: it asks for the
 * configuration and, for a signed-in session, the map's layers (api/early-requests.ts). The small layers go
 * first, so that the base map's zones and roads are not queued behind the device layers for a connection.
 */
import { layerPath } from '../api/client.js';
import { requestEarly } from '../api/early-requests.js';
import { LAYER_NAMES, type LayerName } from '../api/types.js';
import { loadSession } from '../auth/session.js';
import { CONFIG_PATH, CONFIG_REQUEST } from '../config.js';

const SMALL: readonly LayerName[] = ['zones', 'incidents', 'traffic'];

requestEarly(CONFIG_PATH, undefined, CONFIG_REQUEST);
const session = loadSession();
if (session) {
  for (const name of [...SMALL, ...LAYER_NAMES.filter((name) => !SMALL.includes(name))]) requestEarly(layerPath(name), session.token);
}
