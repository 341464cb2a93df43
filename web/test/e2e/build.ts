/** web/dist for the tests and the load measurement: rebuilt first when it is older than its sources. */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../../', import.meta.url));
export const DIST = join(WEB, 'dist');

/** The newest modification under a folder, to tell whether dist is older than its sources. */
function newest(path: string): number {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

export async function ensureBuilt(): Promise<void> {
  const built = existsSync(join(DIST, 'index.html')) ? statSync(join(DIST, 'index.html')).mtimeMs : 0;
  if (built > Math.max(newest(join(WEB, 'src')), newest(join(WEB, 'index.html')))) return;
  const { build } = await import('vite');
  await build({ root: WEB, logLevel: 'warn' });
}
