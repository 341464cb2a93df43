/**
 * The life of one condition — a rule about one subject (a device, a segment, the fleet) — and the incident it
 * owns. This is where alarm storms are prevented, whatever the rule:
 *   - an incident opens only once the condition has held for `forMs` without a break (and past any hold);
 *   - there is at most one incident per condition: a worse finding escalates it in place, a milder one
 *     de-escalates it only after holding for `clearAfterMs`, so a value wobbling across a band boundary
 *     changes the severity at most once per that time;
 *   - the incident clears itself (actor `system`, resolution `cleared`) once the condition has been gone for
 *     `clearAfterMs`, so a flapping condition keeps its one incident;
 *   - an incident an operator resolved stays resolved while the condition persists: the condition is
 *     suppressed at that severity until it has been gone for `releaseAfterMs`, unless it grows worse.
 */
import type { Logger } from '@city/platform';
import type { IncidentStore } from '../incidents/incident-store.js';
import { SYSTEM_ACTOR, severityRank, type Category, type HistoryEntry, type Incident, type Severity, type Source, type Subject } from '../incidents/model.js';
import type { Finding, Verdict } from './thresholds.js';

/** What an incident of this condition is about and where; `family` names the rule (a flood is one family, two types). */
export interface Scope {
  family: string;
  subject: Subject;
  category: Category;
  subCategory?: string | undefined;
  source: Exclude<Source, 'manual'>;
  deviceId?: string | undefined;
  segment?: string | undefined;
  zone?: string | undefined;
  lon: number;
  lat: number;
}

export interface Timing {
  forMs: number;
  /** Undefined: the incident never clears itself (an operator resolves it). */
  clearAfterMs: number | undefined;
  releaseAfterMs: number;
}

export class Condition {
  active = false;
  /** When it last became present (while active). */
  since: number | undefined;
  /** When it last went away (while not active); undefined while that is unknown, e.g. after a restart. */
  goneSince: number | undefined;
  finding: Finding | undefined;
  /** An active condition whose verdict lapses by itself (device events: no news for a while). */
  expiresAt: number | undefined;
  /** No incident opens before this (the offline rule's burst grace). */
  holdUntil: number | undefined;
  incident: { id: string; severity: Severity } | undefined;
  /** Since when the finding has been milder than the incident. */
  milderSince: number | undefined;
  /** An operator resolved the incident at this severity while the condition held. */
  suppressed: Severity | undefined;

  constructor(
    readonly key: string,
    public scope: Scope,
    public timing: Timing,
  ) {}
}

export function conditionKey(subject: Subject, family: string): string {
  return `${subject.type}:${subject.id}|${family}`;
}

/** The rule family of an incident type: flood_warning and flood_danger are two levels of one sensor's flood. */
export function familyOf(type: string): string {
  return type === 'flood_warning' || type === 'flood_danger' ? 'flood' : type;
}

export class Conditions {
  private readonly byKey = new Map<string, Condition>();
  private readonly byIncident = new Map<string, Condition>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly store: IncidentStore,
    private readonly logger: Logger,
  ) {
    this.unsubscribe = store.onChange((incident, change) => this.incidentChanged(incident, change));
  }

  get(key: string): Condition | undefined {
    return this.byKey.get(key);
  }

  all(): IterableIterator<Condition> {
    return this.byKey.values();
  }

  /** The condition for this scope, created if new; scope and timing follow the latest configuration and placement. */
  ensure(scope: Scope, timing: Timing): Condition {
    const key = conditionKey(scope.subject, scope.family);
    const existing = this.byKey.get(key);
    if (existing) {
      existing.scope = scope;
      existing.timing = timing;
      return existing;
    }
    const condition = new Condition(key, scope, timing);
    this.byKey.set(key, condition);
    return condition;
  }

  /** An incident that was open when the api stopped: its condition is unknown until observed again. */
  adoptOpen(incident: Incident, timing: Timing): void {
    const condition = this.ensure(scopeOf(incident), timing);
    condition.incident = { id: incident.id, severity: incident.severity };
    this.byIncident.set(incident.id, condition);
  }

  /** An incident an operator resolved shortly before the api stopped: it stays suppressed as if we had never stopped. */
  adoptResolved(incident: Incident, timing: Timing): void {
    const condition = this.ensure(scopeOf(incident), timing);
    condition.suppressed = incident.severity;
  }

  /** A new verdict on a condition, then whatever follows from it now. */
  record(condition: Condition, verdict: Verdict, now: number, expiresAt?: number): void {
    if (verdict.active) {
      if (!condition.active) {
        condition.active = true;
        condition.since = now;
        condition.goneSince = undefined;
      }
      condition.finding = verdict;
      condition.expiresAt = expiresAt;
    } else if (condition.active || condition.goneSince === undefined) {
      this.goAway(condition, now);
    }
    this.settle(condition, now);
  }

  /** Applies the passage of time: durations, holds, de-escalation, clearing, release of suppression. */
  settle(condition: Condition, now: number): void {
    if (condition.active && condition.expiresAt !== undefined && now >= condition.expiresAt) this.goAway(condition, condition.expiresAt);
    const { timing } = condition;
    if (condition.active && condition.finding) {
      const finding = condition.finding;
      if (condition.incident) return this.adjustSeverity(condition, condition.incident, finding, now);
      if (condition.suppressed !== undefined && severityRank(finding.severity) <= severityRank(condition.suppressed)) return;
      if (now - (condition.since ?? now) < timing.forMs || (condition.holdUntil ?? -Infinity) > now) return;
      return this.open(condition, finding, now);
    }
    if (condition.goneSince === undefined) return;
    const gone = now - condition.goneSince;
    if (condition.incident && timing.clearAfterMs !== undefined && gone >= timing.clearAfterMs) {
      this.store.clear(condition.incident.id, { at: now, note: `condition gone for ${duration(gone)}` });
    }
    if (condition.suppressed !== undefined && gone >= timing.releaseAfterMs) condition.suppressed = undefined;
    if (!condition.incident && condition.suppressed === undefined) this.byKey.delete(condition.key);
  }

  settleAll(now: number): void {
    for (const condition of [...this.byKey.values()]) {
      try {
        this.settle(condition, now);
      } catch (error) {
        this.logger.error({ err: error, condition: condition.key }, 'rule condition could not be settled');
      }
    }
  }

  /** Stops tracking a condition; its incident, if any, stays as it is unless `clear` says why it should go. */
  drop(condition: Condition, now: number, clear?: string): void {
    if (clear !== undefined && condition.incident) this.store.clear(condition.incident.id, { at: now, note: clear });
    if (condition.incident) this.byIncident.delete(condition.incident.id);
    this.byKey.delete(condition.key);
  }

  close(): void {
    this.unsubscribe();
  }

  private goAway(condition: Condition, at: number): void {
    condition.active = false;
    condition.since = undefined;
    condition.goneSince = at;
    condition.finding = undefined;
    condition.expiresAt = undefined;
    condition.milderSince = undefined;
  }

  private open(condition: Condition, finding: Finding, now: number): void {
    const { scope } = condition;
    const { incident, created } = this.store.open(
      {
        type: finding.type,
        category: scope.category,
        subCategory: scope.subCategory,
        severity: finding.severity,
        source: scope.source,
        subject: scope.subject,
        deviceId: scope.deviceId,
        segment: scope.segment,
        zone: scope.zone,
        lon: scope.lon,
        lat: scope.lat,
        description: finding.description,
        value: finding.value,
      },
      { actor: finding.actor ?? SYSTEM_ACTOR, at: now },
    );
    condition.incident = { id: incident.id, severity: incident.severity };
    condition.suppressed = undefined;
    condition.milderSince = undefined;
    this.byIncident.set(incident.id, condition);
    if (!created) return this.adjustSeverity(condition, condition.incident, finding, now);
    this.logger.info({ incident: incident.id, type: incident.type, subject: condition.key, severity: incident.severity, value: finding.value }, 'incident opened');
  }

  private adjustSeverity(condition: Condition, incident: { id: string; severity: Severity }, finding: Finding, now: number): void {
    const delta = severityRank(finding.severity) - severityRank(incident.severity);
    if (delta === 0) {
      condition.milderSince = undefined;
      return;
    }
    if (delta < 0) {
      condition.milderSince ??= now;
      const { clearAfterMs } = condition.timing;
      if (clearAfterMs === undefined || now - condition.milderSince < clearAfterMs) return;
    }
    const { type, value, description } = finding;
    const change = { actor: finding.actor ?? SYSTEM_ACTOR, at: now, type, value, description, note: description };
    const updated = delta > 0 ? this.store.escalate(incident.id, finding.severity, change) : this.store.deescalate(incident.id, finding.severity, change);
    condition.milderSince = undefined;
    const message = delta > 0 ? 'incident escalated' : 'incident de-escalated';
    this.logger.info({ incident: updated.id, type: updated.type, subject: condition.key, severity: updated.severity, value }, message);
  }

  /** Keeps conditions in step with the store, whoever changed it: an operator's resolution suppresses the condition. */
  private incidentChanged(incident: Incident, change: HistoryEntry): void {
    const condition = this.byIncident.get(incident.id);
    if (!condition?.incident) return;
    if (incident.status !== 'resolved') {
      condition.incident.severity = incident.severity;
      return;
    }
    this.byIncident.delete(incident.id);
    condition.incident = undefined;
    condition.milderSince = undefined;
    if (change.action === 'resolve') condition.suppressed = incident.severity;
    this.logger.info({ incident: incident.id, type: incident.type, subject: condition.key, action: change.action, by: change.actor }, 'incident closed');
  }
}

function scopeOf(incident: Incident): Scope {
  return {
    family: familyOf(incident.type),
    subject: incident.subject,
    category: incident.category,
    subCategory: incident.subCategory,
    source: incident.source === 'device' ? 'device' : 'rule',
    deviceId: incident.deviceId,
    segment: incident.segment,
    zone: incident.zone,
    lon: incident.lon,
    lat: incident.lat,
  };
}

export function duration(ms: number): string {
  const seconds = Math.round(ms / 1000);
  if (seconds < 120) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  return minutes < 120 ? `${minutes} min` : `${Math.round((minutes / 60) * 10) / 10} h`;
}
