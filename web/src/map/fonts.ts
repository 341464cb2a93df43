/**
 * The map's font, shipped with the console (font-files.ts) for the style's `font-faces`, so that Vietnamese
 * labels render with no glyph server.
 *
 * maplibre downloads a font file only once a tile's label first needs one of its letters: a download, then the
 * glyphs, on the first map's critical path, and queued behind the city's layers for the browser's few
 * connections. The page's first script fetches the files as it starts instead, and the style names them with a
 * scheme of our own whose loader hands maplibre those early answers, so each file is downloaded once, early.
 */
import { addProtocol, type FontFacesSpecification } from 'maplibre-gl';
import { takeEarly } from '../api/early-requests.js';
import { BOLD_FILES, REGULAR_FILES, type FontSubsets } from './font-files.js';

export const FONT_REGULAR = 'Be Vietnam Pro Regular';
export const FONT_BOLD = 'Be Vietnam Pro SemiBold';

const SCHEME = 'city-font';
const PREFIX = `${SCHEME}://`;

// The subsets' own unicode ranges (from @fontsource's CSS): Vietnamese first, since its letters also sit in latin-ext.
const VIETNAMESE = ['U+0102-0103', 'U+0110-0111', 'U+0128-0129', 'U+0168-0169', 'U+01A0-01A1', 'U+01AF-01B0', 'U+0300-0301', 'U+0303-0304', 'U+0308-0309', 'U+0323', 'U+0329', 'U+1EA0-1EF9', 'U+20AB'];
const LATIN_EXT = ['U+0100-02BA', 'U+02BD-02C5', 'U+02C7-02CC', 'U+02CE-02D7', 'U+02DD-02FF', 'U+1D00-1DBF', 'U+1E00-1E9F', 'U+2020', 'U+20A0-20C0', 'U+2113', 'U+2C60-2C7F', 'U+A720-A7FF'];
const LATIN = ['U+0000-00FF', 'U+0131', 'U+0152-0153', 'U+02BB-02BC', 'U+02C6', 'U+02DA', 'U+02DC', 'U+2000-206F', 'U+20AC', 'U+2122', 'U+2191', 'U+2193', 'U+2212', 'U+2215', 'U+FEFF', 'U+FFFD'];

/** The page's first script's answer for the file, unless it had none (a session begun at the login form): then a fetch of its own. */
async function loadFontFile(url: string, signal: AbortSignal): Promise<ArrayBuffer> {
  const path = url.slice(PREFIX.length);
  const response = await (takeEarly(path, undefined) ?? fetch(path, { signal }));
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.arrayBuffer();
}

addProtocol(SCHEME, async ({ url }, abort) => ({ data: await loadFontFile(url, abort.signal) }));

export function fontFaces(): FontFacesSpecification {
  const faces = (files: FontSubsets) => [
    { url: PREFIX + files.vietnamese, 'unicode-range': VIETNAMESE },
    { url: PREFIX + files.latinExt, 'unicode-range': LATIN_EXT },
    { url: PREFIX + files.latin, 'unicode-range': LATIN },
  ];
  return { [FONT_REGULAR]: faces(REGULAR_FILES), [FONT_BOLD]: faces(BOLD_FILES) };
}
