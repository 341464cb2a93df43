/**
 * The map font's files as the build names them: Be Vietnam Pro's woff2 subsets (SIL OFL 1.1), regular and
 * semibold. A module of its own because the page's first script (boot/early.ts) fetches them, and it must not
 * pull in maplibre with the style that declares them (fonts.ts).
 */
import latin400 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-400-normal.woff2?url';
import latinExt400 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-ext-400-normal.woff2?url';
import vietnamese400 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-vietnamese-400-normal.woff2?url';
import latin600 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-600-normal.woff2?url';
import latinExt600 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-latin-ext-600-normal.woff2?url';
import vietnamese600 from '@fontsource/be-vietnam-pro/files/be-vietnam-pro-vietnamese-600-normal.woff2?url';

export interface FontSubsets {
  vietnamese: string;
  latinExt: string;
  latin: string;
}

export const REGULAR_FILES: FontSubsets = { vietnamese: vietnamese400, latinExt: latinExt400, latin: latin400 };
export const BOLD_FILES: FontSubsets = { vietnamese: vietnamese600, latinExt: latinExt600, latin: latin600 };

export const FONT_FILE_PATHS: readonly string[] = [REGULAR_FILES, BOLD_FILES].flatMap((files) => Object.values(files));
