/**
 * Node-RED and its InfluxDB nodes, installed from npm into a scratch folder the first time the bench needs
 * them and reused while the pinned versions match. Not a dependency of the project: the bench only runs it.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Node-RED 5 refuses to start on Node 20, the project's runtime; the 4.1 line runs on it, so both
 * consumers run on the same Node.
 */
export const NODE_RED_PACKAGES = { 'node-red': '4.1.8', 'node-red-contrib-influxdb': '0.7.0' } as const;

export const NODE_RED_SCRATCH = fileURLToPath(new URL('../.scratch/node-red/', import.meta.url));

export interface NodeRedInstall {
  /** Node-RED's entry point, started with `node red.js`. */
  entry: string;
  versions: Record<string, string>;
  /** Whether this run had to install (the first run's extra minute). */
  installed: boolean;
}

function installedVersion(name: string): string | undefined {
  const manifest = join(NODE_RED_SCRATCH, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version?: string }).version;
}

function upToDate(): boolean {
  return Object.entries(NODE_RED_PACKAGES).every(([name, version]) => installedVersion(name) === version);
}

export async function ensureNodeRed(progress: (message: string) => void): Promise<NodeRedInstall> {
  const result = (installed: boolean): NodeRedInstall => ({ entry: join(NODE_RED_SCRATCH, 'node_modules', 'node-red', 'red.js'), versions: { ...NODE_RED_PACKAGES }, installed });
  if (upToDate()) return result(false);
  const wanted = Object.entries(NODE_RED_PACKAGES).map(([name, version]) => `${name}@${version}`).join(' ');
  progress(`installing ${wanted} into ${NODE_RED_SCRATCH} / đang cài ${wanted}`);
  mkdirSync(NODE_RED_SCRATCH, { recursive: true });
  // A package.json of its own keeps npm from installing into the workspace above it.
  writeFileSync(join(NODE_RED_SCRATCH, 'package.json'), `${JSON.stringify({ private: true, description: 'scratch install of npm run bench (bench/src/node-red-install.ts)', dependencies: NODE_RED_PACKAGES }, null, 2)}\n`);
  const started = performance.now();
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const npm = spawn('npm', ['install', '--omit=dev', '--no-audit', '--no-fund', '--no-update-notifier', '--loglevel=error'], { cwd: NODE_RED_SCRATCH, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => output.push(chunk.toString());
    npm.stdout.on('data', keep);
    npm.stderr.on('data', keep);
    const ticker = setInterval(() => progress(`still installing (${Math.round((performance.now() - started) / 1000)} s) / vẫn đang cài`), 5000);
    npm.once('error', (error) => {
      clearInterval(ticker);
      reject(error);
    });
    npm.once('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else reject(new Error(`npm install exited with ${code}: ${output.join('').slice(-2000)}`));
    });
  });
  if (!upToDate()) throw new Error(`npm install did not leave ${wanted} in ${NODE_RED_SCRATCH}`);
  progress(`installed in ${Math.round((performance.now() - started) / 1000)} s / đã cài xong`);
  return result(true);
}
