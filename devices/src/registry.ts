/**
 * The device registry: one SQLite file (WAL) shared by the CLI, the broker and ingest, so that a
 * device added, rotated or removed by one is seen by the others at their next read, without a restart.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { isDeviceKind, type DeviceKind } from './kinds.js';
import { generateSecret, hashSecret, verifySecret } from './secrets.js';
import { isValidDeviceId } from './topics.js';
import { loadZones, type ZoneIndex } from './zones.js';

export interface Device {
  id: string;
  kind: DeviceKind;
  name: string | null;
  lon: number;
  lat: number;
  zone: string;
  /** What the platform needs to know of this device beyond its kind, e.g. a water sensor's alert level. */
  attributes: DeviceAttributes;
  createdAt: number;
  updatedAt: number;
}

export type DeviceAttributes = Record<string, number | string | boolean>;

export interface NewDevice {
  id: string;
  kind: string;
  lon: number;
  lat: number;
  name?: string | undefined;
  zone?: string | undefined;
  attributes?: DeviceAttributes | undefined;
  actor?: string | undefined;
}

/**
 * Attributes the platform itself reads: `segment` (the road segment a traffic sensor or streetlight
 * stands on), `alertLevel` and `dangerLevel` (a water-level sensor's thresholds, metres above its
 * reference), `totalSpotNumber` (a parking site's capacity). Others are kept as given.
 */
export const ATTRIBUTE_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,31}$/;
export const MAX_ATTRIBUTES = 32;
const MAX_ATTRIBUTE_TEXT = 200;

export type RegistryErrorCode = 'invalid_id' | 'invalid_kind' | 'invalid_location' | 'invalid_attributes' | 'outside_zones' | 'unknown_zone' | 'duplicate' | 'not_found';

export class RegistryError extends Error {
  override name = 'RegistryError';
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface DeviceRow {
  id: string;
  kind: string;
  name: string | null;
  lon: number;
  lat: number;
  zone: string;
  attributes: string | null;
  secret_hash: string;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  name TEXT,
  lon REAL NOT NULL,
  lat REAL NOT NULL,
  zone TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS devices_kind ON devices (kind);
CREATE INDEX IF NOT EXISTS devices_zone ON devices (zone);
CREATE TABLE IF NOT EXISTS audit (
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  device_id TEXT NOT NULL,
  detail TEXT
);
`;

/** A hash that no secret can match, so that unknown ids cost the same scrypt as known ones. */
const DECOY_HASH = 'scrypt$1024$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  deviceId: string;
  detail: string | null;
}

export class DeviceRegistry {
  /** Secrets that already passed scrypt, by device id, valid while the stored hash is unchanged. */
  private readonly verified = new Map<string, { hash: string; digest: Buffer }>();
  private readonly statements;

  private zoneIndex: ZoneIndex | undefined;

  private constructor(
    private readonly db: Database.Database,
    zones: ZoneIndex | undefined,
  ) {
    this.zoneIndex = zones;
    this.statements = {
      get: db.prepare<[string], DeviceRow>('SELECT * FROM devices WHERE id = ?'),
      insert: db.prepare(
        'INSERT INTO devices (id, kind, name, lon, lat, zone, attributes, secret_hash, created_at, updated_at) VALUES (@id, @kind, @name, @lon, @lat, @zone, @attributes, @secret_hash, @created_at, @updated_at)',
      ),
      remove: db.prepare('DELETE FROM devices WHERE id = ?'),
      rotate: db.prepare('UPDATE devices SET secret_hash = ?, updated_at = ? WHERE id = ?'),
      setAttributes: db.prepare('UPDATE devices SET attributes = ?, updated_at = ? WHERE id = ?'),
      audit: db.prepare('INSERT INTO audit (at, actor, action, device_id, detail) VALUES (?, ?, ?, ?, ?)'),
    };
  }

  /** Without `zones`, provisioning uses the bundled default city's zones, loaded on first use. */
  static open(path: string, options: { zones?: ZoneIndex; readonly?: boolean } = {}): DeviceRegistry {
    if (!options.readonly) mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
    db.pragma('busy_timeout = 5000');
    if (!options.readonly) {
      db.pragma('journal_mode = WAL');
      db.exec(SCHEMA);
      // Registries created before device attributes existed gain the column in place.
      const columns = db.prepare<[], { name: string }>('PRAGMA table_info(devices)').all();
      if (!columns.some((column) => column.name === 'attributes')) db.exec('ALTER TABLE devices ADD COLUMN attributes TEXT');
    }
    return new DeviceRegistry(db, options.zones);
  }

  async add(input: NewDevice): Promise<{ device: Device; secret: string }> {
    return (await this.addMany([input]))[0]!;
  }

  /**
   * Provisions a batch in one transaction, all or nothing: a city rolling out thousands of sensors gets them in
   * seconds (one commit, secrets hashed in parallel) rather than one fsync per device. A bad entry is named by
   * its position and nothing is added.
   */
  async addMany(inputs: readonly NewDevice[]): Promise<{ device: Device; secret: string }[]> {
    const seen = new Set<string>();
    const checked = inputs.map((input, index) => {
      try {
        const zone = this.checkNewDevice(input);
        if (seen.has(input.id)) throw new RegistryError('duplicate', `device ${input.id} appears twice in the batch`);
        seen.add(input.id);
        return { input, zone, attributes: checkAttributes(input.attributes ?? {}) };
      } catch (error) {
        if (error instanceof RegistryError && inputs.length > 1) throw new RegistryError(error.code, `device #${index + 1}: ${error.message}`);
        throw error;
      }
    });
    const now = Date.now();
    const added = await Promise.all(
      checked.map(async ({ input, zone, attributes }) => {
        const secret = generateSecret();
        const row: DeviceRow = {
          id: input.id,
          kind: input.kind,
          name: input.name ?? null,
          lon: input.lon,
          lat: input.lat,
          zone,
          attributes: JSON.stringify(attributes),
          secret_hash: await hashSecret(secret),
          created_at: now,
          updated_at: now,
        };
        return { row, secret, actor: input.actor ?? 'unknown' };
      }),
    );
    this.db.transaction(() => {
      for (const { row, actor } of added) {
        if (this.statements.get.get(row.id)) throw new RegistryError('duplicate', `device ${row.id} already exists`);
        this.statements.insert.run(row);
        this.statements.audit.run(now, actor, 'add', row.id, JSON.stringify({ kind: row.kind, zone: row.zone }));
      }
    })();
    return added.map(({ row, secret }) => ({ device: toDevice(row), secret }));
  }

  /** Validates a new device and returns the zone it belongs to. */
  private checkNewDevice(input: NewDevice): string {
    if (typeof input.id !== 'string' || !isValidDeviceId(input.id)) {
      throw new RegistryError('invalid_id', `device id "${String(input.id).slice(0, 80)}" must be 1–64 characters of A–Z a–z 0–9 _ . - starting with a letter or digit`);
    }
    if (!isDeviceKind(input.kind)) throw new RegistryError('invalid_kind', `unknown kind "${String(input.kind).slice(0, 40)}"`);
    if (!Number.isFinite(input.lon) || !Number.isFinite(input.lat) || Math.abs(input.lon) > 180 || Math.abs(input.lat) > 90) {
      throw new RegistryError('invalid_location', 'lon must be within -180..180 and lat within -90..90');
    }
    const zone = this.resolveZone(input);
    if (this.statements.get.get(input.id)) throw new RegistryError('duplicate', `device ${input.id} already exists`);
    return zone;
  }

  get(id: string): Device | undefined {
    const row = this.statements.get.get(id);
    return row ? toDevice(row) : undefined;
  }

  list(filter: { kind?: string | undefined; zone?: string | undefined } = {}): Device[] {
    const clauses: string[] = [];
    const params: string[] = [];
    if (filter.kind) {
      clauses.push('kind = ?');
      params.push(filter.kind);
    }
    if (filter.zone) {
      clauses.push('zone = ?');
      params.push(filter.zone);
    }
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    return this.db.prepare<string[], DeviceRow>(`SELECT * FROM devices ${where} ORDER BY id`).all(...params).map(toDevice);
  }

  remove(id: string, actor = 'unknown'): boolean {
    const removed = this.db.transaction(() => {
      const changes = this.statements.remove.run(id).changes;
      if (changes > 0) this.statements.audit.run(Date.now(), actor, 'remove', id, null);
      return changes > 0;
    })();
    this.verified.delete(id);
    return removed;
  }

  async rotate(id: string, actor = 'unknown'): Promise<string> {
    if (!this.statements.get.get(id)) throw new RegistryError('not_found', `device ${id} does not exist`);
    const secret = generateSecret();
    const hash = await hashSecret(secret);
    const now = Date.now();
    this.db.transaction(() => {
      if (this.statements.rotate.run(hash, now, id).changes === 0) throw new RegistryError('not_found', `device ${id} does not exist`);
      this.statements.audit.run(now, actor, 'rotate', id, null);
    })();
    this.verified.delete(id);
    return secret;
  }

  /** Replaces a device's attributes (the secret is unchanged, so a connected device stays connected). */
  setAttributes(id: string, attributes: DeviceAttributes, actor = 'unknown'): Device {
    const checked = checkAttributes(attributes);
    const now = Date.now();
    this.db.transaction(() => {
      if (this.statements.setAttributes.run(JSON.stringify(checked), now, id).changes === 0) throw new RegistryError('not_found', `device ${id} does not exist`);
      this.statements.audit.run(now, actor, 'set_attributes', id, JSON.stringify(checked));
    })();
    return this.get(id) as Device;
  }

  /**
   * Checks a device's credentials at MQTT CONNECT. The row is read every time (so a removed or rotated
   * device is refused at once); scrypt runs only the first time a secret is seen for the stored hash,
   * because thousands of devices reconnecting after a broker restart must not queue behind it.
   */
  async authenticate(id: string, secret: string): Promise<Device | undefined> {
    const row = typeof id === 'string' && isValidDeviceId(id) ? this.statements.get.get(id) : undefined;
    if (!row) {
      await verifySecret(secret, DECOY_HASH);
      return undefined;
    }
    const digest = createHash('sha256').update(secret).digest();
    const cached = this.verified.get(row.id);
    if (cached && cached.hash === row.secret_hash && timingSafeEqual(cached.digest, digest)) return toDevice(row);
    // A wrong secret always pays for scrypt: answering it fast would tell that the id exists.
    if (!(await verifySecret(secret, row.secret_hash))) return undefined;
    this.verified.set(row.id, { hash: row.secret_hash, digest });
    return toDevice(row);
  }

  audit(deviceId?: string): AuditEntry[] {
    const rows = deviceId
      ? this.db.prepare<[string], Record<string, unknown>>('SELECT * FROM audit WHERE device_id = ? ORDER BY rowid').all(deviceId)
      : this.db.prepare<[], Record<string, unknown>>('SELECT * FROM audit ORDER BY rowid').all();
    return rows.map((row) => ({
      at: row.at as number,
      actor: row.actor as string,
      action: row.action as string,
      deviceId: row.device_id as string,
      detail: (row.detail as string | null) ?? null,
    }));
  }

  close(): void {
    this.db.close();
  }

  private get zones(): ZoneIndex {
    this.zoneIndex ??= loadZones();
    return this.zoneIndex;
  }

  private resolveZone(input: NewDevice): string {
    if (input.zone) {
      if (!this.zones.get(input.zone)) throw new RegistryError('unknown_zone', `zone "${input.zone}" is not one of the city's zones`);
      return input.zone;
    }
    const zone = this.zones.zoneAt(input.lon, input.lat);
    if (!zone) {
      throw new RegistryError(
        'outside_zones',
        `location ${input.lon}, ${input.lat} (lon, lat) is outside every zone of the city; check that lon and lat are not swapped, or name the zone explicitly (--zone in the CLI)`,
      );
    }
    return zone.id;
  }
}

function checkAttributes(attributes: unknown): DeviceAttributes {
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    throw new RegistryError('invalid_attributes', 'attributes must be an object of names to numbers, strings or booleans');
  }
  const entries = Object.entries(attributes);
  if (entries.length > MAX_ATTRIBUTES) throw new RegistryError('invalid_attributes', `a device has at most ${MAX_ATTRIBUTES} attributes`);
  for (const [name, value] of entries) {
    if (!ATTRIBUTE_NAME_PATTERN.test(name)) throw new RegistryError('invalid_attributes', `attribute name "${name.slice(0, 40)}" must be a letter then up to 31 letters, digits or _`);
    const fine =
      (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean' || (typeof value === 'string' && value.length <= MAX_ATTRIBUTE_TEXT);
    if (!fine) throw new RegistryError('invalid_attributes', `attribute ${name} must be a finite number, a boolean or a text of at most ${MAX_ATTRIBUTE_TEXT} characters`);
  }
  return Object.fromEntries(entries) as DeviceAttributes;
}

function toDevice(row: DeviceRow): Device {
  return {
    id: row.id,
    kind: row.kind as DeviceKind,
    name: row.name,
    lon: row.lon,
    lat: row.lat,
    zone: row.zone,
    attributes: row.attributes ? (JSON.parse(row.attributes) as DeviceAttributes) : {},
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
