/**
 * Incidents in the api's SQLite database, so that they survive restarts, each with its full history.
 * Rule and device incidents are one per (subject, type) while open or acknowledged: a unique partial
 * index holds that even if two writers race; manual reports are always incidents of their own.
 */
import Database from 'better-sqlite3';
import type { Logger } from '@city/platform';
import type { Db } from '../database.js';
import { conflict, notFound } from '../errors.js';
import { newIncidentId } from './incident-id.js';
import {
  SYSTEM_ACTOR,
  severityRank,
  type Action,
  type ActionInput,
  type Category,
  type HistoryEntry,
  type Incident,
  type NewIncident,
  type Severity,
  type SeverityChange,
  type Status,
  type Subject,
} from './model.js';

export const INCIDENTS_SCHEMA = `
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  category TEXT NOT NULL,
  sub_category TEXT,
  severity TEXT NOT NULL CHECK (severity IN ('informational', 'low', 'medium', 'high', 'critical')),
  status TEXT NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
  source TEXT NOT NULL CHECK (source IN ('rule', 'device', 'manual')),
  subject_type TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  device_id TEXT,
  segment TEXT,
  zone TEXT,
  lon REAL NOT NULL,
  lat REAL NOT NULL,
  description TEXT NOT NULL,
  value REAL,
  assignee TEXT,
  opened_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  resolved_at INTEGER,
  resolved_by TEXT,
  resolution TEXT CHECK (resolution IN ('resolved', 'cleared'))
);
CREATE UNIQUE INDEX IF NOT EXISTS incidents_one_active ON incidents (subject_type, subject_id, type) WHERE status <> 'resolved' AND source <> 'manual';
CREATE INDEX IF NOT EXISTS incidents_opened_at ON incidents (opened_at);
CREATE INDEX IF NOT EXISTS incidents_status ON incidents (status);
CREATE TABLE IF NOT EXISTS incident_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  incident_id TEXT NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  note TEXT,
  severity TEXT
);
CREATE INDEX IF NOT EXISTS incident_history_incident ON incident_history (incident_id, id);
`;

export interface IncidentFilter {
  status?: readonly Status[] | undefined;
  type?: string | undefined;
  zone?: string | undefined;
  category?: Category | undefined;
  severity?: readonly Severity[] | undefined;
  /** Incidents that were open at some time in [from, to): opened before `to`, not resolved before `from`. */
  from?: number | undefined;
  to?: number | undefined;
  /** Default 100, at most 1000; newest first. */
  limit?: number | undefined;
}

export type IncidentListener = (incident: Incident, change: HistoryEntry) => void;

interface IncidentRow {
  id: string;
  type: string;
  category: string;
  sub_category: string | null;
  severity: string;
  status: string;
  source: string;
  subject_type: string;
  subject_id: string;
  device_id: string | null;
  segment: string | null;
  zone: string | null;
  lon: number;
  lat: number;
  description: string;
  value: number | null;
  assignee: string | null;
  opened_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_by: string | null;
  resolution: string | null;
}

interface HistoryRow {
  incident_id: string;
  at: number;
  actor: string;
  action: string;
  note: string | null;
  severity: string | null;
}

type Columns = Partial<Omit<IncidentRow, 'id' | 'opened_at' | 'updated_at'>>;

/** The statuses each action may start from. */
const ALLOWED_FROM: Record<Exclude<Action, 'open'>, readonly Status[]> = {
  escalate: ['open', 'acknowledged'],
  deescalate: ['open', 'acknowledged'],
  acknowledge: ['open'],
  assign: ['open', 'acknowledged'],
  note: ['open', 'acknowledged', 'resolved'],
  resolve: ['open', 'acknowledged'],
  clear: ['open', 'acknowledged'],
};

const ACTIVE: readonly Status[] = ['open', 'acknowledged'];
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 1000;

export class IncidentStore {
  private readonly listeners = new Set<IncidentListener>();
  private readonly now: () => number;
  private readonly logger: Logger | undefined;
  private readonly statements;

  constructor(
    private readonly db: Db,
    options: { now?: () => number; logger?: Logger } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
    this.statements = {
      get: db.prepare<[string], IncidentRow>('SELECT * FROM incidents WHERE id = ?'),
      findActive: db.prepare<[string, string, string], IncidentRow>(
        "SELECT * FROM incidents WHERE subject_type = ? AND subject_id = ? AND type = ? AND status <> 'resolved' AND source <> 'manual'",
      ),
      insert: db.prepare(
        `INSERT INTO incidents (id, type, category, sub_category, severity, status, source, subject_type, subject_id, device_id, segment, zone, lon, lat,
           description, value, assignee, opened_at, updated_at)
         VALUES (@id, @type, @category, @sub_category, @severity, 'open', @source, @subject_type, @subject_id, @device_id, @segment, @zone, @lon, @lat,
           @description, @value, @assignee, @at, @at)`,
      ),
      history: db.prepare<[string], HistoryRow>('SELECT * FROM incident_history WHERE incident_id = ? ORDER BY id'),
      historyOf: db.prepare<[string], HistoryRow>('SELECT * FROM incident_history WHERE incident_id IN (SELECT value FROM json_each(?)) ORDER BY id'),
      addHistory: db.prepare('INSERT INTO incident_history (incident_id, at, actor, action, note, severity) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  /** Every change, after it is stored: the incident as it is now and the history entry that changed it. */
  onChange(listener: IncidentListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Opens an incident, or — for rule and device incidents — finds the one already open or acknowledged
   * for the same subject and type (`created: false`), so that a condition never gets two.
   */
  open(input: NewIncident, by: ActionInput): { incident: Incident; created: boolean } {
    const at = by.at ?? this.now();
    const attempt = this.db.transaction((): { incident: Incident; created: boolean } => {
      if (input.source !== 'manual') {
        const existing = this.findActive(input.subject, input.type);
        if (existing) return { incident: existing, created: false };
      }
      const id = newIncidentId(at);
      this.statements.insert.run({
        id,
        type: input.type,
        category: input.category,
        sub_category: input.subCategory ?? null,
        severity: input.severity,
        source: input.source,
        subject_type: input.subject.type,
        subject_id: input.subject.id,
        device_id: input.deviceId ?? null,
        segment: input.segment ?? null,
        zone: input.zone ?? null,
        lon: input.lon,
        lat: input.lat,
        description: input.description,
        value: input.value ?? null,
        assignee: input.assignee ?? null,
        at,
      });
      this.statements.addHistory.run(id, at, by.actor, 'open', by.note ?? null, input.severity);
      return { incident: this.require(id), created: true };
    });
    let result: { incident: Incident; created: boolean };
    try {
      result = attempt.immediate();
    } catch (error) {
      // Another writer opened the same (subject, type) between our look and our insert: theirs stands.
      const existing = isUniqueViolation(error) ? this.findActive(input.subject, input.type) : undefined;
      if (!existing) throw error;
      return { incident: existing, created: false };
    }
    if (result.created) this.emit(result.incident);
    return result;
  }

  /** The open or acknowledged rule/device incident for a subject and type. */
  findActive(subject: Subject, type: string): Incident | undefined {
    const row = this.statements.findActive.get(subject.type, subject.id, type);
    return row && this.toIncident(row, this.statements.history.all(row.id));
  }

  get(id: string): Incident | undefined {
    const row = this.statements.get.get(id);
    return row && this.toIncident(row, this.statements.history.all(row.id));
  }

  /** Open and acknowledged incidents, all of them: for the map and the rule engine's restart. */
  active(): Incident[] {
    return this.select({ status: ACTIVE }, undefined);
  }

  list(filter: IncidentFilter = {}): Incident[] {
    return this.select(filter, Math.max(1, Math.min(filter.limit ?? DEFAULT_LIMIT, MAX_LIMIT)));
  }

  escalate(id: string, severity: Severity, change: SeverityChange): Incident {
    return this.changeSeverity(id, 'escalate', severity, change);
  }

  deescalate(id: string, severity: Severity, change: SeverityChange): Incident {
    return this.changeSeverity(id, 'deescalate', severity, change);
  }

  acknowledge(id: string, by: ActionInput): Incident {
    const at = by.at ?? this.now();
    return this.apply(id, 'acknowledge', { ...by, at }, () => ({ status: 'acknowledged', acknowledged_at: at, acknowledged_by: by.actor }));
  }

  assign(id: string, assignee: string, by: ActionInput): Incident {
    return this.apply(id, 'assign', { ...by, note: by.note ?? `assigned to ${assignee}` }, () => ({ assignee }));
  }

  addNote(id: string, by: ActionInput & { note: string }): Incident {
    return this.apply(id, 'note', by, () => ({}));
  }

  /** An operator's resolution. */
  resolve(id: string, by: ActionInput): Incident {
    const at = by.at ?? this.now();
    return this.apply(id, 'resolve', { ...by, at }, () => ({ status: 'resolved', resolved_at: at, resolved_by: by.actor, resolution: 'resolved' }));
  }

  /** The system's resolution once the condition that opened the incident is gone. */
  clear(id: string, by: Partial<ActionInput> = {}): Incident {
    const actor = by.actor ?? SYSTEM_ACTOR;
    const at = by.at ?? this.now();
    return this.apply(id, 'clear', { ...by, actor, at }, () => ({ status: 'resolved', resolved_at: at, resolved_by: actor, resolution: 'cleared' }));
  }

  private select(filter: IncidentFilter, limit: number | undefined): Incident[] {
    const clauses: string[] = [];
    const params: (string | number)[] = [];
    const when = (clause: string, ...values: (string | number)[]) => {
      clauses.push(clause);
      params.push(...values);
    };
    const anyOf = (column: string, values: readonly string[]) => when(`${column} IN (${values.map(() => '?').join(', ')})`, ...values);
    if (filter.status && filter.status.length > 0) anyOf('status', filter.status);
    if (filter.severity && filter.severity.length > 0) anyOf('severity', filter.severity);
    if (filter.type !== undefined) when('type = ?', filter.type);
    if (filter.zone !== undefined) when('zone = ?', filter.zone);
    if (filter.category !== undefined) when('category = ?', filter.category);
    if (filter.to !== undefined) when('opened_at < ?', filter.to);
    if (filter.from !== undefined) when('(resolved_at IS NULL OR resolved_at >= ?)', filter.from);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const sql = `SELECT * FROM incidents ${where} ORDER BY opened_at DESC, id DESC${limit === undefined ? '' : ` LIMIT ${limit}`}`;
    const rows = this.db.prepare<(string | number)[], IncidentRow>(sql).all(...params);
    const histories = new Map<string, HistoryRow[]>();
    for (const entry of this.statements.historyOf.all(JSON.stringify(rows.map((row) => row.id)))) {
      const list = histories.get(entry.incident_id);
      if (list) list.push(entry);
      else histories.set(entry.incident_id, [entry]);
    }
    return rows.map((row) => this.toIncident(row, histories.get(row.id) ?? []));
  }

  private changeSeverity(id: string, action: 'escalate' | 'deescalate', severity: Severity, change: SeverityChange): Incident {
    return this.apply(id, action, { ...change, severity }, (row) => {
      const delta = severityRank(severity) - severityRank(row.severity as Severity);
      if (action === 'escalate' ? delta <= 0 : delta >= 0) {
        throw conflict('invalid_transition', `incident ${id} is already ${row.severity}: it cannot be ${action}d to ${severity}`);
      }
      const columns: Columns = { severity };
      if (change.type !== undefined) columns.type = change.type;
      if (change.value !== undefined) columns.value = change.value;
      if (change.description !== undefined) columns.description = change.description;
      return columns;
    });
  }

  /** One change in one transaction: checks the transition, updates the row, appends the history entry, then tells the listeners. */
  private apply(
    id: string,
    action: Exclude<Action, 'open'>,
    by: ActionInput & { severity?: Severity },
    columns: (row: IncidentRow) => Columns,
  ): Incident {
    const at = by.at ?? this.now();
    const incident = this.db.transaction(() => {
      const row = this.statements.get.get(id);
      if (!row) throw notFound(`no incident ${id}`);
      if (!ALLOWED_FROM[action].includes(row.status as Status)) {
        throw conflict('invalid_transition', `incident ${id} is ${row.status}; ${action} applies only to ${ALLOWED_FROM[action].join(' or ')} incidents`);
      }
      const set = { ...columns(row), updated_at: at };
      const names = Object.keys(set);
      this.db.prepare(`UPDATE incidents SET ${names.map((name) => `${name} = @${name}`).join(', ')} WHERE id = @id`).run({ ...set, id });
      this.statements.addHistory.run(id, at, by.actor, action, by.note ?? null, by.severity ?? null);
      return this.require(id);
    }).immediate();
    this.emit(incident);
    return incident;
  }

  private require(id: string): Incident {
    const incident = this.get(id);
    if (!incident) throw notFound(`no incident ${id}`);
    return incident;
  }

  private emit(incident: Incident): void {
    const change = incident.history.at(-1);
    if (!change) return;
    for (const listener of this.listeners) {
      try {
        listener(incident, change);
      } catch (error) {
        // The change is stored; a failing listener (a stream, the rule engine) must not undo it or stop the others.
        this.logger?.error({ err: error, incident: incident.id, action: change.action }, 'incident listener failed');
      }
    }
  }

  private toIncident(row: IncidentRow, history: readonly HistoryRow[]): Incident {
    const incident: Incident = {
      id: row.id,
      type: row.type,
      category: row.category as Category,
      severity: row.severity as Severity,
      status: row.status as Status,
      source: row.source as Incident['source'],
      subject: { type: row.subject_type as Subject['type'], id: row.subject_id },
      lon: row.lon,
      lat: row.lat,
      description: row.description,
      openedAt: row.opened_at,
      updatedAt: row.updated_at,
      history: history.map(toEntry),
    };
    if (row.sub_category !== null) incident.subCategory = row.sub_category;
    if (row.device_id !== null) incident.deviceId = row.device_id;
    if (row.segment !== null) incident.segment = row.segment;
    if (row.zone !== null) incident.zone = row.zone;
    if (row.value !== null) incident.value = row.value;
    if (row.assignee !== null) incident.assignee = row.assignee;
    if (row.acknowledged_at !== null) incident.acknowledgedAt = row.acknowledged_at;
    if (row.acknowledged_by !== null) incident.acknowledgedBy = row.acknowledged_by;
    if (row.resolved_at !== null) incident.resolvedAt = row.resolved_at;
    if (row.resolved_by !== null) incident.resolvedBy = row.resolved_by;
    if (row.resolution !== null) incident.resolution = row.resolution as 'resolved' | 'cleared';
    return incident;
  }
}

function toEntry(row: HistoryRow): HistoryEntry {
  const entry: HistoryEntry = { at: row.at, actor: row.actor, action: row.action as Action };
  if (row.note !== null) entry.note = row.note;
  if (row.severity !== null) entry.severity = row.severity as Severity;
  return entry;
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}
