/**
 * The map's font, shipped with the console: Be Vietnam Pro's woff2 files (SIL OFL 1.1) for the
 * style's `font-faces`, so that Vietnamese labels render with no glyph server.
 */
import type { FontFacesSpecification } from 'maplibre-gl';
import latin400 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-400-normal.woff2?url';
import latinExt400 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-ext-400-normal.woff2?url';
import vietnamese400 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-vietnamese-400-normal.woff2?url';
import latin600 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-600-normal.woff2?url';
import latinExt600 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-ext-600-normal.woff2?url';
import vietnamese600 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-vietnamese-600-normal.woff2?url';

export const FONT_REGULAR = 'Be Vietnam Pro Regular';
export const FONT_BOLD = 'Be Vietnam Pro SemiBold';

// The subsets' own unicode ranges (from @fontsource's CSS): Vietnamese first, since its letters also sit in latin-ext.
const VIETNAMESE = ['U+0102-0103', 'U+0110-0111', 'U+0128-0129', 'U+0168-0169', 'U+01A0-01A1', 'U+01AF-01B0', 'U+0300-0301', 'U+0303-0304', 'U+0308-0309', 'U+0323', 'U+0329', 'U+1EA0-1EF9', 'U+20AB'];
const LATIN_EXT = ['U+0100-02BA', 'U+02BD-02C5', 'U+02C7-02CC', 'U+02CE-02D7', 'U+02DD-02FF', 'U+1D00-1DBF', 'U+1E00-1E9F', 'U+2020', 'U+20A0-20C0', 'U+2113', 'U+2C60-2C7F', 'U+A720-A7FF'];
const LATIN = ['U+0000-00FF', 'U+0131', 'U+0152-0153', 'U+02BB-02BC', 'U+02C6', 'U+02DA', 'U+02DC', 'U+2000-206F', 'U+20AC', 'U+2122', 'U+2191', 'U+2193', 'U+2212', 'U+2215', 'U+FEFF', 'U+FFFD'];

const absolute = (url: string) => new URL(url, globalThis.location?.href ?? 'http://localhost/').href;

export function fontFaces(): FontFacesSpecification {
  const faces = (vietnamese: string, latinExt: string, latin: string) => [
    { url: absolute(vietnamese), 'unicode-range': VIETNAMESE },
    { url: absolute(latinExt), 'unicode-range': LATIN_EXT },
    { url: absolute(latin), 'unicode-range': LATIN },
  ];
  return { [FONT_REGULAR]: faces(vietnamese400, latinExt400, latin400), [FONT_BOLD]: faces(vietnamese600, latinExt600, latin600) };
}
