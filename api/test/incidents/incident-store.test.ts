import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@city/platform/testing';
import { openDatabase, type Db } from '../../src/database.js';
import { ApiError } from '../../src/errors.js';
import { INCIDENTS_SCHEMA, IncidentStore } from '../../src/incidents/incident-store.js';
import type { HistoryEntry, Incident, NewIncident } from '../../src/incidents/model.js';

const T0 = Date.parse('2025-10-20T02:00:00Z');
let dir: ReturnType<typeof tempDir>;
let db: Db;
let store: IncidentStore;
let clock: number;

const file = () => join(dir.path, 'api.db');
const flood = (overrides: Partial<NewIncident> = {}): NewIncident => ({
  type: 'flood_warning',
  category: 'naturalDisaster',
  subCategory: 'flood',
  severity: 'medium',
  source: 'rule',
  subject: { type: 'device', id: 'dn-wl-hoang-dieu' },
  deviceId: 'dn-wl-hoang-dieu',
  zone: 'hai-chau',
  lon: 108.2211,
  lat: 16.0678,
  description: 'Water 0.25 m at Hoàng Diệu, above its alert level 0.2 m',
  value: 0.25,
  ...overrides,
});

function expectError(action: () => unknown, statusCode: number, code: string): void {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ statusCode, code });
    return;
  }
  expect.fail('expected an ApiError');
}

beforeEach(() => {
  dir = tempDir('city-incidents-');
  db = openDatabase(file(), [INCIDENTS_SCHEMA]);
  clock = T0;
  store = new IncidentStore(db, { now: () => clock });
});

afterEach(() => {
  db.close();
  dir.cleanup();
});

describe('IncidentStore', () => {
  it('keeps one rule incident per subject and type while open or acknowledged; manual reports are always new', () => {
    const first = store.open(flood(), { actor: 'system' });
    expect(first.created).toBe(true);
    expect(store.open(flood({ severity: 'high' }), { actor: 'system' })).toEqual({ incident: first.incident, created: false });
    store.acknowledge(first.incident.id, { actor: 'operator-lan' });
    expect(store.open(flood(), { actor: 'system' }).created).toBe(false);
    expect(store.open(flood({ type: 'air_pollution' }), { actor: 'system' }).created).toBe(true);

    const manual = flood({ source: 'manual', subject: { type: 'location', id: '108.2211,16.0678' } });
    const a = store.open(manual, { actor: 'operator-lan' });
    const b = store.open(manual, { actor: 'operator-lan' });
    expect([a.created, b.created]).toEqual([true, true]);
    expect(a.incident.id).not.toBe(b.incident.id);

    store.resolve(first.incident.id, { actor: 'operator-lan' });
    const again = store.open(flood(), { actor: 'system' });
    expect(again.created).toBe(true);
    expect(again.incident.id).not.toBe(first.incident.id);
  });

  it('walks open → acknowledged → resolved, with who, when and why at every step', () => {
    const { incident } = store.open(flood(), { actor: 'system' });
    expect(incident).toMatchObject({ status: 'open', source: 'rule', openedAt: T0, updatedAt: T0, zone: 'hai-chau', value: 0.25 });
    clock = T0 + 60_000;
    store.escalate(incident.id, 'high', { actor: 'system', value: 0.33, note: 'rising' });
    clock = T0 + 120_000;
    store.acknowledge(incident.id, { actor: 'operator-lan', note: 'crew on the way' });
    clock = T0 + 180_000;
    store.assign(incident.id, 'drainage-team-2', { actor: 'operator-lan' });
    store.addNote(incident.id, { actor: 'operator-minh', note: 'pump started' });
    clock = T0 + 600_000;
    const resolved = store.resolve(incident.id, { actor: 'operator-minh', note: 'water gone' });
    expect(resolved).toMatchObject({
      status: 'resolved',
      severity: 'high',
      value: 0.33,
      assignee: 'drainage-team-2',
      acknowledgedAt: T0 + 120_000,
      acknowledgedBy: 'operator-lan',
      resolvedAt: T0 + 600_000,
      resolvedBy: 'operator-minh',
      resolution: 'resolved',
      updatedAt: T0 + 600_000,
    });
    expect(resolved.history).toEqual<HistoryEntry[]>([
      { at: T0, actor: 'system', action: 'open', severity: 'medium' },
      { at: T0 + 60_000, actor: 'system', action: 'escalate', severity: 'high', note: 'rising' },
      { at: T0 + 120_000, actor: 'operator-lan', action: 'acknowledge', note: 'crew on the way' },
      { at: T0 + 180_000, actor: 'operator-lan', action: 'assign', note: 'assigned to drainage-team-2' },
      { at: T0 + 180_000, actor: 'operator-minh', action: 'note', note: 'pump started' },
      { at: T0 + 600_000, actor: 'operator-minh', action: 'resolve', note: 'water gone' },
    ]);
    expect(store.addNote(incident.id, { actor: 'operator-minh', note: 'drain cleared next day' }).history.at(-1)?.action).toBe('note');
  });

  it('clears on the system’s behalf, recorded as such', () => {
    const { incident } = store.open(flood(), { actor: 'system' });
    const cleared = store.clear(incident.id, { at: T0 + 1_800_000, note: 'condition gone for 30 min' });
    expect(cleared).toMatchObject({ status: 'resolved', resolution: 'cleared', resolvedBy: 'system', resolvedAt: T0 + 1_800_000 });
    expect(cleared.history.at(-1)).toEqual({ at: T0 + 1_800_000, actor: 'system', action: 'clear', note: 'condition gone for 30 min' });
  });

  it('refuses transitions that make no sense with 409 invalid_transition, and unknown ids with 404', () => {
    const { incident } = store.open(flood(), { actor: 'system' });
    store.acknowledge(incident.id, { actor: 'operator-lan' });
    expectError(() => store.acknowledge(incident.id, { actor: 'operator-lan' }), 409, 'invalid_transition');
    expectError(() => store.escalate(incident.id, 'medium', { actor: 'system' }), 409, 'invalid_transition');
    expectError(() => store.deescalate(incident.id, 'high', { actor: 'system' }), 409, 'invalid_transition');
    store.resolve(incident.id, { actor: 'operator-lan' });
    expectError(() => store.resolve(incident.id, { actor: 'operator-lan' }), 409, 'invalid_transition');
    expectError(() => store.acknowledge(incident.id, { actor: 'operator-lan' }), 409, 'invalid_transition');
    expectError(() => store.assign(incident.id, 'team', { actor: 'operator-lan' }), 409, 'invalid_transition');
    expectError(() => store.clear(incident.id), 409, 'invalid_transition');
    expectError(() => store.resolve('inc-nope', { actor: 'operator-lan' }), 404, 'not_found');
    expect(store.get(incident.id)?.history.map((entry) => entry.action)).toEqual(['open', 'acknowledge', 'resolve']);
  });

  it('the unique index refuses a second active incident for a subject and type, whoever writes', () => {
    const { incident } = store.open(flood(), { actor: 'system' });
    const other = openDatabase(file(), [INCIDENTS_SCHEMA]);
    try {
      expect(new IncidentStore(other).open(flood(), { actor: 'system' })).toMatchObject({ created: false, incident: { id: incident.id } });
      const insert = () =>
        other
          .prepare(
            `INSERT INTO incidents (id, type, category, severity, status, source, subject_type, subject_id, lon, lat, description, opened_at, updated_at)
             VALUES ('inc-racer', 'flood_warning', 'naturalDisaster', 'medium', 'acknowledged', 'rule', 'device', 'dn-wl-hoang-dieu', 0, 0, 'x', 0, 0)`,
          )
          .run();
      expect(insert).toThrow(/UNIQUE/);
    } finally {
      other.close();
    }
  });

  it('keeps incidents and their history across a restart', () => {
    const { incident } = store.open(flood(), { actor: 'system' });
    store.acknowledge(incident.id, { actor: 'operator-lan', note: 'seen' });
    db.close();
    db = openDatabase(file(), [INCIDENTS_SCHEMA]);
    store = new IncidentStore(db);
    expect(store.get(incident.id)).toMatchObject({ status: 'acknowledged', history: [{ action: 'open' }, { action: 'acknowledge', note: 'seen' }] });
    expect(store.active().map((entry) => entry.id)).toEqual([incident.id]);
  });

  it('tells listeners of every change with the history entry behind it, after it is stored', () => {
    const seen: [string, string, string][] = [];
    const stop = store.onChange((incident, change) => seen.push([incident.status, change.action, store.get(incident.id)?.status ?? 'missing']));
    store.onChange(() => {
      throw new Error('a broken listener');
    });
    const { incident } = store.open(flood(), { actor: 'system' });
    store.open(flood(), { actor: 'system' });
    store.acknowledge(incident.id, { actor: 'operator-lan' });
    stop();
    store.resolve(incident.id, { actor: 'operator-lan' });
    expect(seen).toEqual([
      ['open', 'open', 'open'],
      ['acknowledged', 'acknowledge', 'acknowledged'],
    ]);
  });

  it('lists newest first, by status, type, zone, category, severity and the time incidents were open', () => {
    const at = (minutes: number) => T0 + minutes * 60_000;
    const open = (minutes: number, overrides: Partial<NewIncident>): Incident => store.open(flood(overrides), { actor: 'system', at: at(minutes) }).incident;
    const a = open(0, { subject: { type: 'device', id: 'a' }, zone: 'son-tra' });
    const b = open(10, { subject: { type: 'device', id: 'b' }, type: 'air_pollution', category: 'environment', severity: 'high' });
    const c = open(20, { subject: { type: 'segment', id: 'c' }, type: 'congestion', category: 'traffic', severity: 'critical' });
    store.resolve(a.id, { actor: 'operator-lan', at: at(5) });
    store.acknowledge(b.id, { actor: 'operator-lan', at: at(15) });
    const ids = (filter: Parameters<IncidentStore['list']>[0]) => store.list(filter).map((incident) => incident.id);

    expect(ids({})).toEqual([c.id, b.id, a.id]);
    expect(ids({ status: ['open', 'acknowledged'] })).toEqual([c.id, b.id]);
    expect(ids({ status: ['resolved'] })).toEqual([a.id]);
    expect(ids({ type: 'congestion' })).toEqual([c.id]);
    expect(ids({ zone: 'son-tra' })).toEqual([a.id]);
    expect(ids({ category: 'environment' })).toEqual([b.id]);
    expect(ids({ severity: ['high', 'critical'] })).toEqual([c.id, b.id]);
    expect(ids({ from: at(6), to: at(12) })).toEqual([b.id]);
    expect(ids({ from: at(2), to: at(12) })).toEqual([b.id, a.id]);
    expect(ids({ to: at(10) })).toEqual([a.id]);
    expect(ids({ limit: 2 })).toEqual([c.id, b.id]);
    expect(store.list({ type: 'air_pollution' })[0]?.history.map((entry) => entry.action)).toEqual(['open', 'acknowledge']);
  });
});
