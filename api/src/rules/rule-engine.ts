/**
 * Turns live state into incidents: air pollution, congestion and flood thresholds, silent devices and
 * device-reported events. The engine is driven from outside — `observe` after each live update, `event`
 * for device events, `presence` on connects and disconnects, `tick` every few seconds — and takes the time
 * from its caller, so tests run it on a controlled clock. Its state is in memory; on construction it picks
 * up the incidents the store holds open (and those operators resolved in the last day), so a restart
 * neither duplicates nor reopens them. How conditions become incidents is in conditions.ts.
 */
import type { Logger } from '@city/platform';
import type { IncidentStore } from '../incidents/incident-store.js';
import { KIND_CATEGORY, SEVERITIES, type Category, type Incident, type Severity, type Subject } from '../incidents/model.js';
import type { DeviceEvent, LiveDevice } from '../live/types.js';
import { Conditions, conditionKey, familyOf, type Scope, type Timing } from './conditions.js';
import { OfflineWatch } from './offline-watch.js';
import { RULE_TYPES, eventRule, zoneRules, type AirPollutionRule, type CongestionRule, type EventRule, type FloodRule } from './rules-config.js';
import type { RulesConfig, ZoneRules } from './rules-config.js';
import { airPollution, congestion, flood, sensorFloodLevels, type Finding, type FloodLevels, type Verdict } from './thresholds.js';

export interface SegmentFlow {
  speed: number;
  occupancy: number;
}

export interface RuleEngineOptions {
  config: RulesConfig;
  store: IncidentStore;
  logger: Logger;
  /** A road segment's mean speed (km/h) and occupancy over its reporting sensors; congestion is then judged per segment. */
  segmentReading?(segmentId: string): SegmentFlow | undefined;
  /** When the engine starts listening (epoch ms, default now): silence before it is not judged. */
  now?: number;
}

/** How far back an operator's resolution still suppresses its condition after a restart. */
const RESTORE_RESOLVED_MS = 24 * 3600_000;

export class RuleEngine {
  private readonly config: RulesConfig;
  private readonly logger: Logger;
  private readonly conditions: Conditions;
  private readonly offline: OfflineWatch;
  private readonly zones = new Map<string, ZoneRules>();
  private readonly warned = new Set<string>();

  constructor(private readonly options: RuleEngineOptions) {
    this.config = options.config;
    this.logger = options.logger;
    this.conditions = new Conditions(options.store, options.logger);
    this.offline = new OfflineWatch(options.config, this.conditions, options.logger);
    this.restore(options.now ?? Date.now());
  }

  /** After each live update of a device: a reading, a change of its registry entry. */
  observe(device: LiveDevice, now: number): void {
    this.guard(device.id, () => {
      this.offline.track(device, now);
      this.offline.check(device.id, now);
      // A reading restored from storage at start is history, not news: judge only what is recent.
      if (device.lastSeen === undefined || now - device.lastSeen > this.offline.silenceLimit(device)) return;
      const rules = this.rulesFor(device.zone);
      if (device.kind === 'air_quality') this.airQuality(device, rules.air_pollution, now);
      else if (device.kind === 'traffic') this.traffic(device, rules.congestion, now);
      else if (device.kind === 'water_level') this.water(device, rules.flood, now);
    });
  }

  /** A device-reported event: an incident of its type, one per subject while it keeps being reported. */
  event(device: LiveDevice, event: DeviceEvent, now: number = Date.now()): void {
    this.guard(device.id, () => {
      const events = this.config.events;
      if (RULE_TYPES.includes(event.type)) {
        this.logger.warn({ device: device.id, type: event.type }, 'device event of a rule type ignored: the rule engine judges that itself');
        return;
      }
      if (now - event.ts > events.maxAgeSeconds * 1000) {
        this.logger.info({ device: device.id, type: event.type, ts: event.ts }, 'device event too old to open an incident');
        return;
      }
      const rule = eventRule(this.config, event.type, device.kind, device.zone);
      const subject: Subject = rule.subject === 'segment' && device.segment ? { type: 'segment', id: device.segment } : { type: 'device', id: device.id };
      const { category = KIND_CATEGORY[device.kind], subCategory } = rule;
      const condition = this.conditions.ensure({ ...place(device), family: event.type, subject, category, subCategory, source: 'device' }, eventTiming(rule));
      const severity = this.reportedSeverity(event.detail) ?? rule.severity;
      const finding: Finding = { active: true, type: event.type, severity, description: describeEvent(device, event), actor: device.id };
      this.conditions.record(condition, finding, now, now + events.holdSeconds * 1000);
    });
  }

  /** A device connected or went away. */
  presence(device: LiveDevice, now: number): void {
    this.guard(device.id, () => {
      this.offline.track(device, now);
      this.offline.check(device.id, now);
    });
  }

  /** The passage of time: silences, durations, holds and clearing. */
  tick(now: number): void {
    this.guard(undefined, () => {
      this.offline.tick(now);
      this.conditions.settleAll(now);
    });
  }

  /** A device removed from the registry: its rule incidents can no longer clear by themselves, so they clear now. */
  forget(deviceId: string, now: number = Date.now()): void {
    this.guard(deviceId, () => {
      this.offline.forget(deviceId);
      for (const condition of [...this.conditions.all()]) {
        const { subject, source } = condition.scope;
        if (subject.type !== 'device' || subject.id !== deviceId) continue;
        this.conditions.drop(condition, now, source === 'rule' ? 'the device was removed from the registry' : undefined);
      }
    });
  }

  close(): void {
    this.conditions.close();
  }

  private airQuality(device: LiveDevice, rule: AirPollutionRule, now: number): void {
    const aqi = device.derived.aqi;
    if (!rule.enabled || aqi === undefined) return;
    const scope = ruleScope(device, 'air_pollution', 'environment', 'airPollution');
    this.judge(scope, thresholdTiming(rule), (holding) => airPollution(aqi, rule, holding, label(device)), now);
  }

  private traffic(device: LiveDevice, rule: CongestionRule, now: number): void {
    if (!rule.enabled) return;
    const bySegment = device.segment !== undefined && this.options.segmentReading !== undefined;
    const speed = device.reading?.averageVehicleSpeed;
    const occupancy = device.reading?.occupancy;
    const own = typeof speed === 'number' && typeof occupancy === 'number' ? { speed, occupancy } : undefined;
    const flow = (bySegment && device.segment ? this.options.segmentReading?.(device.segment) : undefined) ?? own;
    if (!flow) return;
    const scope = ruleScope(device, 'congestion', 'traffic', 'trafficJam');
    if (bySegment && device.segment) scope.subject = { type: 'segment', id: device.segment };
    const where = scope.subject.type === 'segment' ? `segment ${scope.subject.id}` : label(device);
    this.judge(scope, thresholdTiming(rule), (holding) => congestion(flow, rule, holding, where), now);
  }

  private water(device: LiveDevice, rule: FloodRule, now: number): void {
    const level = device.reading?.currentLevel;
    if (!rule.enabled || typeof level !== 'number') return;
    const levels = this.floodLevels(device, rule);
    if (!levels) return;
    const scope = ruleScope(device, 'flood', 'naturalDisaster', 'flood');
    this.judge(scope, thresholdTiming(rule), (holding) => flood(level, levels, rule, holding, label(device)), now);
  }

  private judge(scope: Scope, timing: Timing, evaluate: (holding: boolean) => Verdict, now: number): void {
    const existing = this.conditions.get(conditionKey(scope.subject, scope.family));
    const verdict = evaluate(existing?.active ?? false);
    if (!verdict.active && !existing) return;
    this.conditions.record(this.conditions.ensure(scope, timing), verdict, now);
  }

  /** The sensor's own alertLevel/dangerLevel attributes, else the zone's defaults. */
  private floodLevels(device: LiveDevice, rule: FloodRule): FloodLevels | undefined {
    const levels = sensorFloodLevels(device.attributes, rule);
    const { alertLevel, dangerLevel } = device.attributes;
    if (!levels) this.warnOnce(device.id, 'water sensor has no alert and danger levels, nor its zone defaults: no flood rule for it');
    else if ((alertLevel !== undefined || dangerLevel !== undefined) && (levels.alertLevel !== alertLevel || levels.dangerLevel !== dangerLevel)) {
      this.warnOnce(device.id, 'water sensor alertLevel/dangerLevel attributes unusable (two numbers, danger above alert); using the zone defaults');
    }
    return levels;
  }

  /** `detail.severity` as a severity name or one of the configured words (minor, major, …). */
  private reportedSeverity(detail: Record<string, unknown>): Severity | undefined {
    const word = typeof detail.severity === 'string' ? detail.severity.trim().toLowerCase() : undefined;
    if (word === undefined) return undefined;
    if ((SEVERITIES as readonly string[]).includes(word)) return word as Severity;
    const words = this.config.events.severityWords;
    return Object.hasOwn(words, word) ? words[word] : undefined;
  }

  private rulesFor(zone: string): ZoneRules {
    let rules = this.zones.get(zone);
    if (!rules) this.zones.set(zone, (rules = zoneRules(this.config, zone)));
    return rules;
  }

  private timingOf(incident: Incident): Timing {
    const family = familyOf(incident.type);
    const rules = this.rulesFor(incident.zone ?? '');
    if (family === 'air_pollution') return thresholdTiming(rules.air_pollution);
    if (family === 'congestion') return thresholdTiming(rules.congestion);
    if (family === 'flood') return thresholdTiming(rules.flood);
    // The device's kind, and so its silence limit, is known once it is heard of again.
    if (family === 'device_offline') return this.offline.timing(undefined);
    if (family === 'devices_offline') return this.offline.outageTiming();
    // The device's kind is not kept with an incident: its kind's overrides apply from its next event.
    return eventTiming(eventRule(this.config, incident.type, undefined, incident.zone));
  }

  private restore(now: number): void {
    const adopted = new Set<string>();
    let open = 0;
    let suppressed = 0;
    for (const incident of this.options.store.active()) {
      if (incident.source === 'manual') continue;
      this.conditions.adoptOpen(incident, this.timingOf(incident));
      adopted.add(conditionKey(incident.subject, familyOf(incident.type)));
      open += 1;
    }
    // Newest first: only the latest incident of a condition tells whether an operator closed it while it held.
    for (const incident of this.options.store.list({ status: ['resolved'], from: now - RESTORE_RESOLVED_MS, limit: 1000 })) {
      const key = conditionKey(incident.subject, familyOf(incident.type));
      if (incident.source === 'manual' || adopted.has(key)) continue;
      adopted.add(key);
      if (incident.resolution !== 'resolved') continue;
      this.conditions.adoptResolved(incident, this.timingOf(incident));
      suppressed += 1;
    }
    this.logger.info({ open, suppressed }, 'rule engine resumed its incidents');
  }

  private warnOnce(deviceId: string, message: string): void {
    const key = `${deviceId}|${message}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn({ device: deviceId }, message);
  }

  private guard(deviceId: string | undefined, work: () => void): void {
    try {
      work();
    } catch (error) {
      // One failing rule or write must not stop live updates, nor the other rules.
      this.logger.error({ err: error, device: deviceId }, 'rule engine failed');
    }
  }
}

function place(device: LiveDevice): Pick<Scope, 'deviceId' | 'segment' | 'zone' | 'lon' | 'lat'> {
  return { deviceId: device.id, segment: device.segment, zone: device.zone, lon: device.lon, lat: device.lat };
}

function ruleScope(device: LiveDevice, family: string, category: Category, subCategory: string): Scope {
  return { ...place(device), family, subject: { type: 'device', id: device.id }, category, subCategory, source: 'rule' };
}

function label(device: LiveDevice): string {
  return device.name ? `${device.name} (${device.id})` : device.id;
}

function thresholdTiming(rule: { forSeconds: number; clearAfterSeconds: number }): Timing {
  return { forMs: rule.forSeconds * 1000, clearAfterMs: rule.clearAfterSeconds * 1000, releaseAfterMs: rule.clearAfterSeconds * 1000 };
}

/** Events hold while repeated; an operator resolves them unless the type clears after a quiet time. */
function eventTiming(rule: EventRule): Timing {
  return { forMs: 0, clearAfterMs: rule.clearAfterSeconds === undefined ? undefined : rule.clearAfterSeconds * 1000, releaseAfterMs: 0 };
}

function describeEvent(device: LiveDevice, event: DeviceEvent): string {
  const text = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? value.trim().slice(0, 200) : undefined);
  const what = event.type.replaceAll('_', ' ');
  const at = text(event.detail.name) ?? text(event.detail.location);
  const said = text(event.detail.description);
  return `${what.charAt(0).toUpperCase()}${what.slice(1)} reported by ${label(device)}${at ? ` at ${at}` : ''}${said ? `: ${said}` : ''}`;
}
