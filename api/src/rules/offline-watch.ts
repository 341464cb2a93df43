/**
 * device_offline: a device silent for `silenceIntervals` × its kind's reporting interval. Silence is only
 * judged once we have heard of the device and only from our own start (we do not know what happened while
 * we were not listening), so the api's start-up grace is one silence limit. An offline device is back
 * with its next reading, not with a bare reconnect: a device that reconnects in a loop without reporting
 * keeps its one incident.
 *
 * Many devices going away together — a broker restart, a network or power cut, the api losing the broker —
 * must not open hundreds of incidents. Each newly silent device waits a little (`burst.windowSeconds`, plus
 * one reporting interval when we only know its last reading, so that devices that stopped at the same moment
 * but last reported at different times are all seen). If at least `burst.minDevices` went away within the
 * window of each other, they wait `burst.graceSeconds` more; those back by then are skipped, and if at least
 * `minDevices` are still away they become one `devices_offline` incident instead of one each. That outage
 * ends when fewer than `minDevices` of its devices remain away; those that do then get their own incidents.
 */
import type { Logger } from '@city/platform';
import { KIND_CATEGORY, type Category } from '../incidents/model.js';
import type { LiveDevice } from '../live/types.js';
import { conditionKey, duration, type Conditions, type Scope, type Timing } from './conditions.js';
import { longestSilenceMs, offlineRule, type DeviceOfflineRule, type OfflineRule, type RulesConfig } from './rules-config.js';
import { ABSENT, type Finding } from './thresholds.js';

interface Watched {
  device: LiveDevice;
  /** When we first heard of the device: silence before it is not ours to judge. */
  knownSince: number;
}

/** A device that went away, at a moment somewhere in [from, to]. */
interface Away {
  device: LiveDevice;
  from: number;
  to: number;
}

const OUTAGE_SUBJECT = { type: 'location', id: 'fleet' } as const;
const OUTAGE_KEY = conditionKey(OUTAGE_SUBJECT, 'devices_offline');

export class OfflineWatch {
  private readonly watched = new Map<string, Watched>();
  /** Silent devices waiting for their hold, to see whether others went with them. */
  private readonly pending = new Map<string, Away>();
  /** A burst being given its grace. */
  private burst: { members: Map<string, Away>; deadline: number } | undefined;
  /** The devices behind the open devices_offline incident. */
  private outage: Map<string, Away> | undefined;
  /** The fleet-wide settings (the burst); what applies to one device comes from `ruleOf`. */
  private readonly rule: OfflineRule;
  private readonly resolved = new Map<string, DeviceOfflineRule>();

  constructor(
    private readonly config: RulesConfig,
    private readonly conditions: Conditions,
    private readonly logger: Logger,
  ) {
    this.rule = config.device_offline;
  }

  track(device: LiveDevice, now: number): void {
    const entry = this.watched.get(device.id);
    if (entry) entry.device = device;
    else this.watched.set(device.id, { device, knownSince: now });
  }

  forget(deviceId: string): void {
    this.watched.delete(deviceId);
    this.leaveGroups(deviceId);
  }

  /** A device's own state changed (a reading, a presence change). */
  check(deviceId: string, now: number): void {
    const entry = this.watched.get(deviceId);
    if (!entry || !this.ruleOf(entry.device).enabled) return;
    const { device } = entry;
    const heard = lastHeard(device);
    if (heard === undefined) return;
    // A condition restored at start learns its device's kind (and so its timing) here.
    const condition = this.conditions.get(offlineKey(deviceId)) && this.conditions.ensure(offlineScope(device), this.timing(device));
    if (now - Math.max(heard, entry.knownSince) >= this.silenceLimit(device)) {
      if (!condition?.active) this.wentAway(entry, heard, now);
      return;
    }
    if (condition && device.lastSeen !== undefined && device.lastSeen >= (condition.since ?? entry.knownSince)) {
      this.leaveGroups(deviceId);
      this.conditions.record(condition, ABSENT, now);
    }
  }

  tick(now: number): void {
    for (const id of this.watched.keys()) this.check(id, now);
    this.gatherBurst(now);
    this.endBurst(now);
    this.updateOutage(now);
  }

  /** The timing of a device's offline condition: it clears after the longer of clearAfterSeconds and its silence limit. */
  timing(device: LiveDevice | undefined): Timing {
    const silence = device ? this.silenceLimit(device) : longestSilenceMs(this.config);
    const clearAfterMs = Math.max((device ? this.ruleOf(device) : this.rule).clearAfterSeconds * 1000, silence);
    return { forMs: 0, clearAfterMs, releaseAfterMs: clearAfterMs };
  }

  /** An outage clears after the longest silence limit of any kind, so that every kind's devices have had time to be missed. */
  outageTiming(): Timing {
    return this.timing(undefined);
  }

  private wentAway(entry: Watched, heard: number, now: number): void {
    const { device } = entry;
    const condition = this.conditions.ensure(offlineScope(device), this.timing(device));
    if (!condition.incident && condition.suppressed === undefined) {
      // A disconnect is a moment; a silence began somewhere within one reporting interval after the last reading.
      const exact = device.presence === 'offline' && device.presenceSince !== undefined;
      const from = exact ? (device.presenceSince ?? heard) : heard;
      const away: Away = { device, from, to: exact ? from : from + this.intervalMs(device) };
      if (this.outage && [...this.outage.values()].some((other) => this.together(away, other))) {
        this.outage.set(device.id, away);
        condition.holdUntil = Infinity;
      } else {
        this.pending.set(device.id, away);
        condition.holdUntil = now + this.rule.burst.windowSeconds * 1000 + (exact ? 0 : this.intervalMs(device));
      }
    }
    const silentMs = now - heard;
    const rule = this.ruleOf(device);
    const every = rule.reportingIntervalSeconds;
    const finding: Finding = {
      active: true,
      type: 'device_offline',
      severity: rule.severity,
      value: Math.round(silentMs / 1000),
      description: `${device.name ?? device.id} (${device.id}, ${device.kind}) silent for ${duration(silentMs)}; it reports every ${every} s`,
    };
    this.conditions.record(condition, finding, now);
  }

  /**
   * Pending devices that went away together with at least minDevices − 1 others join the burst and wait out its
   * grace. Devices the broker reported disconnected count as away before their silence is long enough, so a
   * broker restart is recognised from its first silent device on.
   */
  private gatherBurst(now: number): void {
    for (const id of this.pending.keys()) {
      const condition = this.conditions.get(offlineKey(id));
      // Opened on its own once its hold ran out, or back: no longer waiting.
      if (!condition?.active || condition.incident) this.pending.delete(id);
    }
    if (this.pending.size === 0) return;
    const away = new Map<string, Away>();
    for (const { device } of this.watched.values()) {
      const at = device.presence === 'offline' ? device.presenceSince : undefined;
      if (at !== undefined) away.set(device.id, { device, from: at, to: at });
    }
    for (const [id, entry] of [...this.pending, ...(this.burst?.members ?? [])]) away.set(id, entry);
    const everyone = [...away.values()];
    const companions = (entry: Away) => everyone.filter((other) => this.together(entry, other)).length;
    const joining = [...this.pending.values()].filter((entry) => companions(entry) >= this.rule.burst.minDevices);
    if (joining.length === 0) return;
    const graceEnds = now + this.rule.burst.graceSeconds * 1000;
    this.burst ??= { members: new Map(), deadline: graceEnds };
    this.burst.deadline = Math.max(this.burst.deadline, graceEnds);
    for (const entry of joining) {
      this.pending.delete(entry.device.id);
      this.burst.members.set(entry.device.id, entry);
      const condition = this.conditions.get(offlineKey(entry.device.id));
      if (condition) condition.holdUntil = Infinity;
    }
    const { graceSeconds } = this.rule.burst;
    this.logger.warn({ devices: this.burst.members.size, graceSeconds }, 'many devices went offline together: waiting before opening incidents');
  }

  /** Once the grace is over: one outage if enough are still away, otherwise each on its own. */
  private endBurst(now: number): void {
    if (!this.burst || now < this.burst.deadline) return;
    const still = [...this.burst.members.values()];
    this.burst = undefined;
    if (still.length >= this.rule.burst.minDevices) {
      this.outage ??= new Map();
      for (const away of still) this.outage.set(away.device.id, away);
    } else {
      for (const away of still) this.release(away.device.id, now);
    }
  }

  private updateOutage(now: number): void {
    // An outage incident that outlived a restart has no known devices: those still away are found again one silence limit in.
    if (!this.outage && this.conditions.get(OUTAGE_KEY)) this.outage = new Map();
    if (!this.outage) return;
    const members = [...this.outage.values()];
    let condition = this.conditions.get(OUTAGE_KEY);
    if (members.length > 0) {
      const where = { lon: mean(members.map((away) => away.device.lon)), lat: mean(members.map((away) => away.device.lat)) };
      const category = mostCommon(members.map((away) => KIND_CATEGORY[away.device.kind]));
      const scope: Scope = { family: 'devices_offline', subject: OUTAGE_SUBJECT, category, source: 'rule', ...where };
      condition = this.conditions.ensure(scope, this.outageTiming());
    }
    if (condition) this.conditions.record(condition, members.length >= this.rule.burst.minDevices ? this.outageFinding(members) : ABSENT, now);
    if (this.conditions.get(OUTAGE_KEY)) return;
    // The outage is over (cleared, or resolved and gone long enough): whoever is still away is offline on their own.
    this.outage = undefined;
    for (const away of members) this.release(away.device.id, now);
  }

  private outageFinding(members: readonly Away[]): Finding {
    return {
      active: true,
      type: 'devices_offline',
      severity: this.rule.burst.severity,
      value: members.length,
      description:
        `${members.length} devices went offline together (${tally(members.map((away) => away.device.kind))}; ` +
        `${tally(members.map((away) => away.device.zone))}): a broker, network or power outage?`,
    };
  }

  private release(deviceId: string, now: number): void {
    const condition = this.conditions.get(offlineKey(deviceId));
    if (!condition) return;
    condition.holdUntil = now;
    this.conditions.settle(condition, now);
  }

  private leaveGroups(deviceId: string): void {
    this.pending.delete(deviceId);
    this.burst?.members.delete(deviceId);
    this.outage?.delete(deviceId);
  }

  private together(a: Away, b: Away): boolean {
    const window = this.rule.burst.windowSeconds * 1000;
    return a.from - window <= b.to && b.from - window <= a.to;
  }

  /** How long a device may be silent before it is offline: silenceIntervals × its reporting interval, as its kind and zone set them. */
  silenceLimit(device: LiveDevice): number {
    return this.ruleOf(device).silenceIntervals * this.intervalMs(device);
  }

  private intervalMs(device: LiveDevice): number {
    return this.ruleOf(device).reportingIntervalSeconds * 1000;
  }

  private ruleOf(device: LiveDevice): DeviceOfflineRule {
    const key = `${device.kind}|${device.zone}`;
    let rule = this.resolved.get(key);
    if (!rule) this.resolved.set(key, (rule = offlineRule(this.config, device.kind, device.zone)));
    return rule;
  }
}

function offlineKey(deviceId: string): string {
  return conditionKey({ type: 'device', id: deviceId }, 'device_offline');
}

function offlineScope(device: LiveDevice): Scope {
  return {
    family: 'device_offline',
    subject: { type: 'device', id: device.id },
    category: KIND_CATEGORY[device.kind],
    subCategory: 'deviceFault',
    source: 'rule',
    deviceId: device.id,
    segment: device.segment,
    zone: device.zone,
    lon: device.lon,
    lat: device.lat,
  };
}

/** The last sign of life: a reading, a connection, or for a device known only as offline, its disconnection. */
function lastHeard(device: LiveDevice): number | undefined {
  const connected = device.presence === 'online' ? device.presenceSince : undefined;
  if (device.lastSeen === undefined) return connected ?? (device.presence === 'offline' ? device.presenceSince : undefined);
  return Math.max(device.lastSeen, connected ?? -Infinity);
}

function mean(values: readonly number[]): number {
  return values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;
}

function mostCommon(categories: readonly Category[]): Category {
  const counts = new Map<Category, number>();
  for (const category of categories) counts.set(category, (counts.get(category) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 'traffic';
}

function tally(values: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const value of values) counts.set(value, (counts.get(value) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([value, count]) => `${value} ${count}`).join(', ');
}
