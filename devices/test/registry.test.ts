import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, it, expect, vi } from 'vitest';
import { DeviceRegistry, RegistryError, type RegistryErrorCode } from '../src/registry.js';
import * as secrets from '../src/secrets.js';
import { parseZones } from '../src/zones.js';

// Counting scrypt runs is the only way to see the cache at work without measuring time.
vi.mock('../src/secrets.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../src/secrets.js')>();
  return { ...original, verifySecret: vi.fn(original.verifySecret) };
});
const scryptRuns = () => vi.mocked(secrets.verifySecret).mock.calls.length;

const HAI_CHAU = { lon: 108.2208, lat: 16.0544 };
const SON_TRA = { lon: 108.27, lat: 16.11 };
const HANOI = { lon: 105.85, lat: 21.03 };

let dir: string;
let path: string;
const opened: DeviceRegistry[] = [];
const open = (options?: Parameters<typeof DeviceRegistry.open>[1]) => {
  const registry = DeviceRegistry.open(path, options);
  opened.push(registry);
  return registry;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'city-registry-'));
  path = join(dir, 'nested', 'data', 'registry.db');
});

afterEach(() => {
  for (const registry of opened.splice(0)) registry.close();
  rmSync(dir, { recursive: true, force: true });
});

async function refusal(action: Promise<unknown>): Promise<RegistryError> {
  const error = await action.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(RegistryError);
  return error as RegistryError;
}

describe('DeviceRegistry', () => {
  it('creates its file, in WAL mode so that readers and the CLI do not block each other', () => {
    open();
    expect(existsSync(path)).toBe(true);
    const db = new Database(path, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('adds a device in the zone of its location and returns its secret once', async () => {
    const registry = open();
    const before = Date.now();
    const { device, secret } = await registry.add({ id: 'dn-traffic-001', kind: 'traffic', ...HAI_CHAU, name: 'Cầu Rồng' });
    expect(device).toEqual({
      id: 'dn-traffic-001',
      kind: 'traffic',
      name: 'Cầu Rồng',
      ...HAI_CHAU,
      zone: 'hai-chau',
      attributes: {},
      createdAt: expect.any(Number),
      updatedAt: device.createdAt,
    });
    expect(device.createdAt).toBeGreaterThanOrEqual(before);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(registry.get('dn-traffic-001')).toEqual(device);
    expect(registry.get('nope')).toBeUndefined();
  });

  it('never exposes the secret or its hash', async () => {
    const registry = open();
    const { device, secret } = await registry.add({ id: 'a', kind: 'noise', ...HAI_CHAU });
    for (const shown of [device, registry.get('a'), registry.list(), await registry.authenticate('a', secret)]) {
      const text = JSON.stringify(shown);
      expect(text).not.toContain('scrypt');
      expect(text).not.toContain(secret);
    }
  });

  it('lists devices by id, filtered by kind and zone', async () => {
    const registry = open();
    await registry.add({ id: 'c', kind: 'noise', ...SON_TRA });
    await registry.add({ id: 'a', kind: 'traffic', ...HAI_CHAU });
    await registry.add({ id: 'b', kind: 'noise', ...HAI_CHAU });
    const ids = (filter?: Parameters<DeviceRegistry['list']>[0]) => registry.list(filter).map((device) => device.id);
    expect(ids()).toEqual(['a', 'b', 'c']);
    expect(ids({ kind: 'noise' })).toEqual(['b', 'c']);
    expect(ids({ zone: 'hai-chau' })).toEqual(['a', 'b']);
    expect(ids({ kind: 'noise', zone: 'son-tra' })).toEqual(['c']);
    expect(ids({ kind: 'parking' })).toEqual([]);
  });

  it('adds a batch in one transaction, each device with its own secret that authenticates it', async () => {
    const registry = open();
    const added = await registry.addMany(Array.from({ length: 50 }, (_, n) => ({ id: `batch-${n}`, kind: 'noise' as const, ...HAI_CHAU, actor: 'rollout' })));
    expect(added.map((entry) => entry.device.id)).toEqual(Array.from({ length: 50 }, (_, n) => `batch-${n}`));
    expect(new Set(added.map((entry) => entry.secret)).size).toBe(50);
    expect(registry.list({ zone: 'hai-chau' })).toHaveLength(50);
    expect(await registry.authenticate('batch-7', added[7]!.secret)).toBeDefined();
    expect(await registry.authenticate('batch-7', added[8]!.secret)).toBeUndefined();
  });

  it('adds nothing of a batch with a bad entry, and names the entry', async () => {
    const registry = open();
    await registry.add({ id: 'taken', kind: 'noise', ...HAI_CHAU });
    const outside = await refusal(registry.addMany([{ id: 'fine', kind: 'noise', ...HAI_CHAU }, { id: 'lost', kind: 'noise', ...HANOI }]));
    expect(outside.code).toBe('outside_zones');
    expect(outside.message).toMatch(/^device #2: /);
    expect((await refusal(registry.addMany([{ id: 'fine', kind: 'noise', ...HAI_CHAU }, { id: 'fine', kind: 'noise', ...SON_TRA }]))).code).toBe('duplicate');
    expect((await refusal(registry.addMany([{ id: 'fine', kind: 'noise', ...HAI_CHAU }, { id: 'taken', kind: 'noise', ...SON_TRA }]))).code).toBe('duplicate');
    expect(registry.list().map((device) => device.id)).toEqual(['taken']);
  });

  it('takes an explicit zone for a location outside every zone', async () => {
    const registry = open();
    const { device } = await registry.add({ id: 'island-buoy', kind: 'water_level', ...HANOI, zone: 'hoang-sa' });
    expect(device.zone).toBe('hoang-sa');
  });

  it('uses the zones it is given instead of the bundled ones', async () => {
    const zones = parseZones(
      {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            properties: { name: 'Phường Hoàn Kiếm' },
            geometry: { type: 'Polygon', coordinates: [[[105.8, 21], [105.9, 21], [105.9, 21.1], [105.8, 21.1], [105.8, 21]]] },
          },
        ],
      },
      'test',
    );
    const registry = open({ zones });
    expect((await registry.add({ id: 'hn-1', kind: 'noise', ...HANOI })).device.zone).toBe('hoan-kiem');
    expect((await refusal(registry.add({ id: 'dn-1', kind: 'noise', ...HAI_CHAU }))).code).toBe('outside_zones');
  });

  it('refuses invalid input with a code', async () => {
    const registry = open();
    await registry.add({ id: 'taken', kind: 'noise', ...HAI_CHAU });
    const cases: Array<[RegistryErrorCode, Parameters<DeviceRegistry['add']>[0]]> = [
      ['invalid_id', { id: '', kind: 'noise', ...HAI_CHAU }],
      ['invalid_id', { id: '-starts-with-dash', kind: 'noise', ...HAI_CHAU }],
      ['invalid_id', { id: 'has/slash', kind: 'noise', ...HAI_CHAU }],
      ['invalid_id', { id: 'plus+sign', kind: 'noise', ...HAI_CHAU }],
      ['invalid_id', { id: 'x'.repeat(65), kind: 'noise', ...HAI_CHAU }],
      ['invalid_kind', { id: 'k', kind: 'boat', ...HAI_CHAU }],
      ['invalid_kind', { id: 'k', kind: 'toString', ...HAI_CHAU }],
      ['invalid_location', { id: 'l', kind: 'noise', lon: Number.NaN, lat: 16 }],
      ['invalid_location', { id: 'l', kind: 'noise', lon: Number.POSITIVE_INFINITY, lat: 16 }],
      ['invalid_location', { id: 'l', kind: 'noise', lon: 181, lat: 16 }],
      ['invalid_location', { id: 'l', kind: 'noise', lon: 108, lat: -90.5 }],
      ['invalid_location', { id: 'l', kind: 'noise', lon: '108' as unknown as number, lat: 16 }],
      ['outside_zones', { id: 'o', kind: 'noise', ...HANOI }],
      ['unknown_zone', { id: 'z', kind: 'noise', ...HAI_CHAU, zone: 'atlantis' }],
      ['duplicate', { id: 'taken', kind: 'traffic', ...SON_TRA }],
    ];
    for (const [code, input] of cases) {
      expect({ input, code: (await refusal(registry.add(input))).code }).toEqual({ input, code });
    }
    expect(registry.list().map((device) => device.id)).toEqual(['taken']);
  });

  it('explains a location outside every zone: swapped coordinates, or --zone', async () => {
    const registry = open();
    const error = await refusal(registry.add({ id: 'swapped', kind: 'noise', lon: 16.0544, lat: 80 }));
    expect(error.code).toBe('outside_zones');
    expect(error.message).toMatch(/swapped/);
    expect(error.message).toMatch(/--zone/);
  });

  it('authenticates a device by id and secret only', async () => {
    const registry = open();
    const { secret } = await registry.add({ id: 'a', kind: 'noise', ...HAI_CHAU });
    const { secret: other } = await registry.add({ id: 'b', kind: 'noise', ...HAI_CHAU });
    expect((await registry.authenticate('a', secret))?.id).toBe('a');
    expect(await registry.authenticate('a', other)).toBeUndefined();
    expect(await registry.authenticate('a', '')).toBeUndefined();
    expect(await registry.authenticate('b', secret)).toBeUndefined();
    expect(await registry.authenticate('ghost', secret)).toBeUndefined();
    expect(await registry.authenticate('not/an/id', secret)).toBeUndefined();
  });

  it('runs scrypt once per secret while the stored hash is unchanged, and always for a wrong or unknown one', async () => {
    const registry = open();
    const { secret } = await registry.add({ id: 'a', kind: 'noise', ...HAI_CHAU });
    const start = scryptRuns();
    expect(await registry.authenticate('a', secret)).toBeDefined();
    expect(scryptRuns()).toBe(start + 1);
    for (let i = 0; i < 5; i++) expect(await registry.authenticate('a', secret)).toBeDefined();
    expect(scryptRuns()).toBe(start + 1);
    // Wrong secrets and unknown ids cost the same scrypt, so timing tells nothing about which ids exist.
    expect(await registry.authenticate('a', 'wrong')).toBeUndefined();
    expect(await registry.authenticate('ghost', secret)).toBeUndefined();
    expect(scryptRuns()).toBe(start + 3);
    expect(await registry.authenticate('a', secret)).toBeDefined();
    expect(scryptRuns()).toBe(start + 3);
  });

  it('refuses the old secret after a rotation and accepts the new one', async () => {
    const registry = open();
    const { secret, device } = await registry.add({ id: 'a', kind: 'noise', ...HAI_CHAU });
    expect(await registry.authenticate('a', secret)).toBeDefined();
    const rotated = await registry.rotate('a', 'test');
    expect(rotated).not.toBe(secret);
    expect(await registry.authenticate('a', secret)).toBeUndefined();
    expect((await registry.authenticate('a', rotated))?.id).toBe('a');
    expect(registry.get('a')?.updatedAt).toBeGreaterThanOrEqual(device.updatedAt);
    expect((await refusal(registry.rotate('ghost'))).code).toBe('not_found');
  });

  it('refuses a removed device', async () => {
    const registry = open();
    const { secret } = await registry.add({ id: 'a', kind: 'noise', ...HAI_CHAU });
    expect(await registry.authenticate('a', secret)).toBeDefined();
    expect(registry.remove('a')).toBe(true);
    expect(registry.remove('a')).toBe(false);
    expect(registry.get('a')).toBeUndefined();
    expect(await registry.authenticate('a', secret)).toBeUndefined();
    // The id is free again, with a new secret.
    const again = await registry.add({ id: 'a', kind: 'traffic', ...SON_TRA });
    expect(await registry.authenticate('a', secret)).toBeUndefined();
    expect(await registry.authenticate('a', again.secret)).toBeDefined();
  });

  it('records who added, rotated and removed what', async () => {
    const registry = open();
    await registry.add({ id: 'a', kind: 'noise', ...HAI_CHAU, actor: 'cli:alice' });
    await registry.rotate('a', 'cli:bob');
    registry.remove('a', 'api:carol');
    registry.remove('a', 'cli:dave');
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT at, actor, action, device_id, detail FROM audit ORDER BY rowid').all() as Array<Record<string, unknown>>;
    db.close();
    expect(rows.map(({ actor, action, device_id }) => [actor, action, device_id])).toEqual([
      ['cli:alice', 'add', 'a'],
      ['cli:bob', 'rotate', 'a'],
      ['api:carol', 'remove', 'a'],
    ]);
    expect(JSON.parse(String(rows[0]?.detail))).toMatchObject({ kind: 'noise', zone: 'hai-chau' });
    for (const row of rows) expect(row.at).toEqual(expect.any(Number));
    expect(JSON.stringify(rows)).not.toMatch(/scrypt/);
  });

  it('shares one file between instances, as the broker and the CLI do', async () => {
    const broker = open();
    const cli = open();
    const { secret } = await cli.add({ id: 'shared', kind: 'parking', ...SON_TRA });
    expect(broker.get('shared')?.zone).toBe('son-tra');
    expect(await broker.authenticate('shared', secret)).toBeDefined();

    const rotated = await cli.rotate('shared');
    // The broker's cache still holds the old secret; the changed hash in the row must win over it.
    expect(await broker.authenticate('shared', secret)).toBeUndefined();
    expect(await broker.authenticate('shared', rotated)).toBeDefined();

    cli.remove('shared');
    expect(await broker.authenticate('shared', rotated)).toBeUndefined();
    expect(broker.list()).toEqual([]);
  });

  it('opens read-only for services that only look devices up', async () => {
    const writer = open();
    await writer.add({ id: 'a', kind: 'noise', ...HAI_CHAU });
    const reader = open({ readonly: true });
    expect(reader.get('a')?.kind).toBe('noise');
    await writer.add({ id: 'b', kind: 'noise', ...HAI_CHAU });
    expect(reader.list().map((device) => device.id)).toEqual(['a', 'b']);
    await expect(reader.add({ id: 'c', kind: 'noise', ...HAI_CHAU })).rejects.toThrow(/readonly/);
    expect(() => DeviceRegistry.open(join(dir, 'absent.db'), { readonly: true })).toThrow();
  });
  it('keeps attributes the platform reads, validates them, and records their changes', async () => {
    const registry = open();
    const { device } = await registry.add({ id: 'dn-water-1', kind: 'water_level', ...HAI_CHAU, attributes: { alertLevel: 0.6, dangerLevel: 1.2, riverside: true } });
    expect(device.attributes).toEqual({ alertLevel: 0.6, dangerLevel: 1.2, riverside: true });
    expect(registry.get('dn-water-1')?.attributes).toEqual({ alertLevel: 0.6, dangerLevel: 1.2, riverside: true });
    expect(registry.setAttributes('dn-water-1', { alertLevel: 0.8, dangerLevel: 1.5 }, 'ops').attributes).toEqual({ alertLevel: 0.8, dangerLevel: 1.5 });
    expect(registry.audit('dn-water-1').map((entry) => entry.action)).toEqual(['add', 'set_attributes']);
    for (const attributes of [{ 'bad name': 1 }, { level: Number.NaN }, { note: 'x'.repeat(201) }, { nested: { a: 1 } }]) {
      expect((await refusal(registry.add({ id: 'dn-water-2', kind: 'water_level', ...HAI_CHAU, attributes: attributes as never }))).code).toBe('invalid_attributes');
    }
    expect(() => registry.setAttributes('dn-missing', {})).toThrow(/does not exist/);
  });

  it('gains the attributes column when it opens a registry made before attributes existed', async () => {
    const old = new Database(path.replace('nested/data/', ''));
    old.exec('CREATE TABLE devices (id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT, lon REAL NOT NULL, lat REAL NOT NULL, zone TEXT NOT NULL, secret_hash TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL)');
    old.prepare("INSERT INTO devices VALUES ('dn-old', 'noise', NULL, 108.22, 16.05, 'hai-chau', 'x', 1, 1)").run();
    old.close();
    const registry = DeviceRegistry.open(path.replace('nested/data/', ''));
    opened.push(registry);
    expect(registry.get('dn-old')?.attributes).toEqual({});
  });
});
