import { join } from 'node:path';
import type { DeviceAttributes, DeviceKind, MetricValue } from '@city/devices';
import { createLogger } from '@city/platform';
import { tempDir } from '@city/platform/testing';
import { openDatabase, type Db } from '../../src/database.js';
import { INCIDENTS_SCHEMA, IncidentStore } from '../../src/incidents/incident-store.js';
import type { Derived, LiveDevice } from '../../src/live/types.js';
import { RuleEngine, type SegmentFlow } from '../../src/rules/rule-engine.js';
import { loadRulesConfig, type RulesConfig } from '../../src/rules/rules-config.js';

export const logger = createLogger('test', process.env.TEST_LOG_LEVEL ?? 'silent');
export const T0 = Date.parse('2025-10-20T02:00:00Z');
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

export function liveDevice(id: string, kind: DeviceKind, options: { zone?: string; segment?: string; attributes?: DeviceAttributes; name?: string } = {}): LiveDevice {
  return {
    id,
    kind,
    name: options.name ?? null,
    zone: options.zone ?? 'hai-chau',
    lon: 108.22,
    lat: 16.06,
    attributes: options.attributes ?? {},
    segment: options.segment,
    presence: 'unknown',
    presenceSince: undefined,
    lastSeen: undefined,
    reading: undefined,
    readingTs: undefined,
    derived: {},
  };
}

/** A fresh reading, as the live state applies it, then the engine told of it. */
export function report(engine: RuleEngine, device: LiveDevice, now: number, values: Record<string, MetricValue>, derived: Derived = {}): void {
  device.reading = values;
  device.readingTs = now;
  device.lastSeen = now;
  if (device.presence !== 'online') {
    device.presence = 'online';
    device.presenceSince = now;
  }
  device.derived = derived;
  engine.observe(device, now);
}

export function setPresence(engine: RuleEngine, device: LiveDevice, presence: 'online' | 'offline', now: number): void {
  device.presence = presence;
  device.presenceSince = now;
  engine.presence(device, now);
}

/** A real store on a SQLite file that survives `restart()`, as the api's database does. */
export class Bench {
  readonly dir = tempDir('city-rules-');
  readonly config: RulesConfig;
  db: Db;
  store: IncidentStore;
  engine: RuleEngine;
  private readonly segments = new Map<string, SegmentFlow>();
  private readonly bySegment: boolean;

  constructor(options: { now?: number; config?: (config: RulesConfig) => void; bySegment?: boolean } = {}) {
    this.config = loadRulesConfig();
    options.config?.(this.config);
    this.db = openDatabase(join(this.dir.path, 'api.db'), [INCIDENTS_SCHEMA]);
    this.store = new IncidentStore(this.db, { now: () => T0, logger });
    this.bySegment = options.bySegment ?? false;
    this.engine = this.newEngine(options.now ?? T0);
  }

  segmentFlow(segment: string, flow: SegmentFlow | undefined): void {
    if (flow) this.segments.set(segment, flow);
    else this.segments.delete(segment);
  }

  /** The api stops and starts again on the same database file. */
  restart(now: number): void {
    this.engine.close();
    this.db.close();
    this.db = openDatabase(join(this.dir.path, 'api.db'), [INCIDENTS_SCHEMA]);
    this.store = new IncidentStore(this.db, { now: () => now, logger });
    this.engine = this.newEngine(now);
  }

  incidents(type?: string) {
    return this.store.list({ type, limit: 1000 });
  }

  /** Calls tick every `step` ms in [from, to], running `each` before each tick. */
  run(from: number, to: number, step: number, each?: (now: number) => void): void {
    for (let now = from; now <= to; now += step) {
      each?.(now);
      this.engine.tick(now);
    }
  }

  close(): void {
    this.engine.close();
    this.db.close();
    this.dir.cleanup();
  }

  private newEngine(now: number): RuleEngine {
    return new RuleEngine({
      config: this.config,
      store: this.store,
      logger,
      now,
      ...(this.bySegment ? { segmentReading: (segment: string) => this.segments.get(segment) } : {}),
    });
  }
}
