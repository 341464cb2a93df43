/**
 * `npm run devices -- <command>`: provisioning from a terminal, also while the platform runs (the
 * registry is shared through SQLite). The rules live in the registry; this parses, calls and prints.
 * Exit codes: 0 done, 1 refused or failed, 2 the command line itself is wrong.
 */
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { messagesFor, type ErrorContext } from './cli-messages.js';
import { isDeviceKind } from './kinds.js';
import { DeviceRegistry, RegistryError, type Device } from './registry.js';
import { loadZones, ZonesError, type ZoneIndex } from './zones.js';

const OPTIONS = {
  kind: { type: 'string' },
  lon: { type: 'string' },
  lat: { type: 'string' },
  name: { type: 'string' },
  zone: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Option = keyof typeof OPTIONS;
type Values = { [name in Option]?: (typeof OPTIONS)[name]['type'] extends 'boolean' ? boolean : string };

const COMMANDS = {
  add: { takesId: true, options: ['kind', 'lon', 'lat', 'name', 'zone', 'json'] },
  list: { takesId: false, options: ['kind', 'zone', 'json'] },
  rotate: { takesId: true, options: ['json'] },
  remove: { takesId: true, options: [] },
  zones: { takesId: false, options: ['json'] },
} as const satisfies Record<string, { takesId: boolean; options: readonly Option[] }>;

type Command = keyof typeof COMMANDS;

class UsageError extends Error {}

const text = messagesFor();
const env = process.env;
const registryPath = join(env.DATA_DIR || './data', 'registry.db');
const zonesFile = env.ZONES_FILE || undefined;

process.exitCode = await main(process.argv.slice(2));

async function main(argv: string[]): Promise<number> {
  const context: ErrorContext = {};
  try {
    const { command, id, values } = parseCommandLine(argv);
    if (!command) {
      print(text.help);
      return 0;
    }
    Object.assign(context, { id, kind: values.kind, zone: values.zone });
    if (command === 'zones') {
      listZones(values.json === true);
      return 0;
    }
    if (command === 'add') {
      const lon = number('lon', values.lon);
      const lat = number('lat', values.lat);
      const kind = required('kind', values.kind);
      Object.assign(context, { lon, lat });
      const zones = loadZones(zonesFile);
      return await withRegistry(async (registry) => {
        const { device, secret } = await registry.add({ id, kind, lon, lat, name: values.name, zone: values.zone, actor: actor() });
        showSecret(device.id, secret, values.json === true, { kind: device.kind, zone: device.zone }, text.added(device.id, device.kind, device.zone));
      }, zones);
    }
    if (command === 'list') {
      if (values.kind !== undefined && !isDeviceKind(values.kind)) throw new RegistryError('invalid_kind', 'unknown kind');
      return await withRegistry((registry) => listDevices(registry.list({ kind: values.kind, zone: values.zone }), values.json === true));
    }
    if (command === 'rotate') {
      return await withRegistry(async (registry) => {
        showSecret(id, await registry.rotate(id, actor()), values.json === true, {}, text.rotated(id));
      });
    }
    return await withRegistry((registry) => {
      if (!registry.remove(id, actor())) throw new RegistryError('not_found', 'no such device');
      print(text.removed(id));
    });
  } catch (error) {
    if (error instanceof UsageError) {
      fail(`${error.message}\n${text.seeHelp}`);
      return 2;
    }
    if (error instanceof RegistryError) fail(text.errors[error.code](context));
    else if (error instanceof ZonesError) fail(text.zonesFailed(error.message));
    else fail(text.failed((error as Error).message));
    return 1;
  }
}

function parseCommandLine(argv: string[]): { command?: Command; id: string; values: Values } {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(text.badArguments((error as Error).message));
  }
  const values: Values = parsed.values;
  const [name, ...rest] = parsed.positionals;
  if (values.help || name === 'help') return { id: '', values };
  if (name === undefined) throw new UsageError(text.missingCommand);
  if (!Object.hasOwn(COMMANDS, name)) throw new UsageError(text.unknownCommand(name));
  const command = name as Command;
  const spec = COMMANDS[command];
  const allowed: readonly Option[] = spec.options;
  const misplaced = (Object.keys(values) as Option[]).find((option) => !allowed.includes(option));
  if (misplaced) throw new UsageError(text.optionNotAllowed(misplaced, command));
  const id = spec.takesId ? rest.shift() : '';
  if (id === undefined) throw new UsageError(text.missingId(command));
  if (rest.length > 0) throw new UsageError(text.extraArguments(rest.join(' ')));
  return { command, id, values };
}

function required(option: Option, value: string | undefined): string {
  if (value === undefined || value === '') throw new UsageError(text.missingOption(option));
  return value;
}

function number(option: Option, value: string | undefined): number {
  const parsed = Number(required(option, value));
  if (value?.trim() === '' || Number.isNaN(parsed)) throw new UsageError(text.notANumber(option, value ?? ''));
  return parsed;
}

async function withRegistry(action: (registry: DeviceRegistry) => Promise<void> | void, zones?: ZoneIndex): Promise<number> {
  let registry: DeviceRegistry;
  try {
    registry = DeviceRegistry.open(registryPath, { zones });
  } catch (error) {
    fail(text.registryFailed(registryPath, (error as Error).message));
    return 1;
  }
  try {
    await action(registry);
    return 0;
  } finally {
    registry.close();
  }
}

/** The secret goes to stdout once; with --json nothing else does, so that scripts can parse it. */
function showSecret(id: string, secret: string, json: boolean, extra: Record<string, string>, headline: string): void {
  if (json) {
    print(JSON.stringify({ id, secret, ...extra }));
    fail(text.secretShownOnce(id));
    return;
  }
  print(`${headline}\n${text.secret(secret)}\n${text.secretShownOnce(id)}`);
}

function listDevices(devices: Device[], json: boolean): void {
  if (json) {
    print(JSON.stringify(devices, null, 2));
    return;
  }
  if (devices.length === 0) {
    print(text.noDevices);
    return;
  }
  const columns = text.deviceColumns;
  const rows = devices.map((device) => [
    device.id,
    device.kind,
    device.zone,
    device.lon.toFixed(6),
    device.lat.toFixed(6),
    device.name ?? '',
    new Date(device.createdAt).toISOString().slice(0, 16).replace('T', ' '),
  ]);
  print(table([columns.id, columns.kind, columns.zone, columns.lon, columns.lat, columns.name, columns.created], rows));
}

function listZones(json: boolean): void {
  const zones = loadZones(zonesFile).zones.map((zone) => ({ id: zone.id, name: zone.name }));
  if (json) print(JSON.stringify(zones, null, 2));
  else print(table([text.zoneColumns.id, text.zoneColumns.name], zones.map((zone) => [zone.id, zone.name])));
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

function actor(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    // Containers often run as a uid without a passwd entry.
    return `cli:${env.USER ?? process.getuid?.() ?? 'unknown'}`;
  }
}

function print(message: string): void {
  process.stdout.write(`${message}\n`);
}

function fail(message: string): void {
  process.stderr.write(`${message}\n`);
}
