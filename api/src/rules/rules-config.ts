/**
 * The rule engine's thresholds (`api/config/rules.json`), validated at load: a bad file stops the api
 * with a message naming the field. Every number lives in that file; none is hidden in code.
 *
 *   air_pollution   VN_AQI (hourly, Decision 1459/QĐ-TCMT) of an air station.
 *     bands                  [{aboveAqi, severity}] ascending; the incident opens above the first band and takes the
 *                            severity of the highest band exceeded (default: >150 high, >200 critical).
 *     hysteresisAqi          the condition ends only at or below first aboveAqi − this (default 10: at 140).
 *   congestion      a road segment's mean speed and occupancy (of all its sensors), or a lone sensor's own.
 *     bands                  [{belowSpeedKmh, severity}] descending; congested below the first band's speed while
 *                            occupancy is above aboveOccupancy (default: <10 km/h medium, <5 km/h high, occupancy >0.6).
 *     hysteresisSpeedKmh, hysteresisOccupancy   the condition ends once speed ≥ first belowSpeedKmh + this, or
 *                            occupancy ≤ aboveOccupancy − this.
 *   flood           a water sensor's currentLevel against its own alertLevel/dangerLevel attributes, else
 *                   defaultAlertLevel/defaultDangerLevel here (per zone in `zones`). One incident per sensor:
 *                   flood_warning above the alert level (warningSeverity, upperWarningSeverity from
 *                   upperWarningFraction of the way to the danger level), escalating in place to flood_danger
 *                   (dangerSeverity) above the danger level. hysteresisMetres: ends at or below alert − this.
 *   device_offline  a device silent for silenceIntervals × its kind's reporting interval (severity). kinds:
 *                   {"<kind>": {reportingIntervalSeconds?, silenceIntervals?, severity?, clearAfterSeconds?, enabled?}}
 *                   overrides per kind (reportingIntervalSeconds replaces the kind's own, e.g. for a fleet that
 *                   reports less often); a zone may override the same fields, and per kind again. Cleared once it
 *                   has reported again for the longer of clearAfterSeconds and that silence. burst: when at least
 *                   minDevices went away within windowSeconds of each other (a broker, network or power outage),
 *                   they wait graceSeconds more; those that came back are skipped, and if minDevices are still
 *                   away they become one `devices_offline` incident (burst.severity) rather than one each; it clears
 *                   once fewer than minDevices remain away for the longest silence limit of any kind, and those
 *                   still away then get their own incidents.
 *   events          device events (`devices/{id}/events`) by type, else `default`: category (FIWARE Alert; without it,
 *                   the category of the device's kind: traffic for traffic, parking and streetlights, environment
 *                   for air quality and noise, naturalDisaster for water level), subCategory, severity
 *                   (the event's detail.severity wins: a severity name, or a word in severityWords), subject
 *                   (`segment`: one incident per road segment for all its cameras; `device`), optional
 *                   clearAfterSeconds (by default an operator resolves them). Repeats within holdSeconds are the
 *                   same occurrence; events older than maxAgeSeconds on arrival are only logged. kinds:
 *                   {"<kind>": {default?, types?}} overrides fields of `default` and of `types` for a kind's devices.
 *   zones           {"<zone id>": {air_pollution?, congestion?, flood?, device_offline?, events?}}: fields that differ
 *                   in that zone; device_offline and events there take `kinds` too.
 *
 * Which value applies to a device: the rule's own, then its kind's override, then its zone's, then its zone's for
 * its kind — each overriding only the fields it names. An event type's settings start from its entry in
 * events/types (or `default` when no layer names the type) and take each layer's entry for that type (or `default`).
 *
 * Common to the threshold rules: forSeconds — how long the condition must hold, without a break, before an incident
 * opens; clearAfterSeconds — how long it must be gone before the incident clears itself, before an incident an
 * operator resolved may open again (unless it grows worse), and how long a milder severity must last before the
 * incident is de-escalated (a worse one escalates at once); enabled.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Type, type Static, type TObject, type TProperties } from '@sinclair/typebox';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { DEVICE_KINDS, KINDS, type DeviceKind } from '@city/devices';
import { ConfigError } from '@city/platform';
import { FiwareCategorySchema, INCIDENT_TYPE_PATTERN, SeveritySchema, literalUnion, severityRank, type Severity } from '../incidents/model.js';

/** The incident types the rules open themselves; device events of these types are refused. */
export const RULE_TYPES: readonly string[] = ['air_pollution', 'congestion', 'flood_warning', 'flood_danger', 'device_offline', 'devices_offline'];

export const DEFAULT_RULES_FILE = fileURLToPath(new URL('../../config/rules.json', import.meta.url));

const strict = <T extends TProperties>(properties: T): TObject<T> => Type.Object(properties, { additionalProperties: false });
const Seconds = Type.Number({ minimum: 0 });
const Timing = { enabled: Type.Boolean(), forSeconds: Seconds, clearAfterSeconds: Seconds };

const AirPollutionSchema = strict({
  ...Timing,
  bands: Type.Array(strict({ aboveAqi: Type.Number({ minimum: 0, maximum: 500 }), severity: SeveritySchema }), { minItems: 1 }),
  hysteresisAqi: Type.Number({ minimum: 0 }),
});

const CongestionSchema = strict({
  ...Timing,
  bands: Type.Array(strict({ belowSpeedKmh: Type.Number({ exclusiveMinimum: 0, maximum: 300 }), severity: SeveritySchema }), { minItems: 1 }),
  aboveOccupancy: Type.Number({ minimum: 0, maximum: 1 }),
  hysteresisSpeedKmh: Type.Number({ minimum: 0 }),
  hysteresisOccupancy: Type.Number({ minimum: 0, maximum: 1 }),
});

const FloodSchema = strict({
  ...Timing,
  defaultAlertLevel: Type.Optional(Type.Number({ minimum: -50, maximum: 100 })),
  defaultDangerLevel: Type.Optional(Type.Number({ minimum: -50, maximum: 100 })),
  warningSeverity: SeveritySchema,
  upperWarningFraction: Type.Number({ minimum: 0, maximum: 1 }),
  upperWarningSeverity: SeveritySchema,
  dangerSeverity: SeveritySchema,
  hysteresisMetres: Type.Number({ minimum: 0 }),
});

const OfflineFields = {
  enabled: Type.Boolean(),
  severity: SeveritySchema,
  silenceIntervals: Type.Number({ exclusiveMinimum: 0 }),
  clearAfterSeconds: Seconds,
};
const OfflineKindSchema = Type.Partial(strict({ ...OfflineFields, reportingIntervalSeconds: Type.Number({ exclusiveMinimum: 0 }) }));
const OfflineKinds = Type.Optional(Type.Record(Type.String(), OfflineKindSchema));

const OfflineSchema = strict({
  ...OfflineFields,
  burst: strict({ minDevices: Type.Integer({ minimum: 2 }), windowSeconds: Seconds, graceSeconds: Seconds, severity: SeveritySchema }),
  kinds: OfflineKinds,
});

const EventTypeSchema = strict({
  category: Type.Optional(FiwareCategorySchema),
  subCategory: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  severity: SeveritySchema,
  subject: literalUnion(['device', 'segment']),
  clearAfterSeconds: Type.Optional(Seconds),
});

const EventOverridesFields = {
  default: Type.Optional(Type.Partial(EventTypeSchema)),
  types: Type.Optional(Type.Record(Type.String(), Type.Partial(EventTypeSchema))),
};
const EventOverridesSchema = strict(EventOverridesFields);
const EventKinds = Type.Optional(Type.Record(Type.String(), EventOverridesSchema));

const EventsSchema = strict({
  holdSeconds: Seconds,
  maxAgeSeconds: Seconds,
  severityWords: Type.Record(Type.String(), SeveritySchema),
  default: EventTypeSchema,
  types: Type.Record(Type.String(), EventTypeSchema),
  kinds: EventKinds,
});

const ZoneOverridesSchema = strict({
  air_pollution: Type.Optional(Type.Partial(AirPollutionSchema)),
  congestion: Type.Optional(Type.Partial(CongestionSchema)),
  flood: Type.Optional(Type.Partial(FloodSchema)),
  device_offline: Type.Optional(Type.Partial(strict({ ...OfflineFields, kinds: OfflineKinds }))),
  events: Type.Optional(strict({ ...EventOverridesFields, kinds: EventKinds })),
});

export const RulesConfigSchema = strict({
  $comment: Type.Optional(Type.String()),
  air_pollution: AirPollutionSchema,
  congestion: CongestionSchema,
  flood: FloodSchema,
  device_offline: OfflineSchema,
  events: EventsSchema,
  zones: Type.Record(Type.String(), ZoneOverridesSchema),
});

export type RulesConfig = Static<typeof RulesConfigSchema>;
export type AirPollutionRule = Static<typeof AirPollutionSchema>;
export type CongestionRule = Static<typeof CongestionSchema>;
export type FloodRule = Static<typeof FloodSchema>;
export type OfflineRule = Static<typeof OfflineSchema>;
export type EventRule = Static<typeof EventTypeSchema>;
type EventOverrides = Static<typeof EventOverridesSchema>;

/** device_offline as it applies to one device: its kind's reporting interval included. */
export interface DeviceOfflineRule {
  enabled: boolean;
  severity: Severity;
  silenceIntervals: number;
  clearAfterSeconds: number;
  reportingIntervalSeconds: number;
}

/** The threshold rules as they apply in one zone. */
export interface ZoneRules {
  air_pollution: AirPollutionRule;
  congestion: CongestionRule;
  flood: FloodRule;
}

/** Reads and checks a rules file; `knownZones`, when given, catches a misspelt zone id. */
export function loadRulesConfig(path: string = DEFAULT_RULES_FILE, knownZones?: readonly string[]): RulesConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`rules file ${path} cannot be read: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`rules file ${path} is not JSON: ${(error as Error).message}`);
  }
  return parseRulesConfig(document, path, knownZones);
}

export function parseRulesConfig(document: unknown, source: string, knownZones?: readonly string[]): RulesConfig {
  const byField = new Map<string, string>();
  for (const error of Value.Errors(RulesConfigSchema, document)) {
    const field = error.path.replace(/^\//, '') || '(file)';
    if (!byField.has(field)) byField.set(field, `${field}: ${explain(error)}`);
  }
  const problems = byField.size > 0 ? [...byField.values()] : semanticProblems(document as RulesConfig, knownZones);
  if (problems.length > 0) throw new ConfigError(`rules file ${source} is invalid:\n  ${problems.join('\n  ')}`);
  return document as RulesConfig;
}

function explain(error: ValueError): string {
  const options = (error.schema as { anyOf?: { const?: unknown }[] }).anyOf;
  if (options?.every((option) => typeof option.const === 'string')) return `must be one of ${options.map((option) => option.const).join(', ')}`;
  return error.message;
}

export function zoneRules(config: RulesConfig, zone: string): ZoneRules {
  const overrides = Object.hasOwn(config.zones, zone) ? config.zones[zone] : undefined;
  return {
    air_pollution: { ...config.air_pollution, ...overrides?.air_pollution },
    congestion: { ...config.congestion, ...overrides?.congestion },
    flood: { ...config.flood, ...overrides?.flood },
  };
}

const own = <T>(record: Record<string, T> | undefined, key: string): T | undefined => (record && Object.hasOwn(record, key) ? record[key] : undefined);

export function offlineRule(config: RulesConfig, kind: DeviceKind, zone: string): DeviceOfflineRule {
  const { enabled, severity, silenceIntervals, clearAfterSeconds } = config.device_offline;
  const inZone = own(config.zones, zone)?.device_offline;
  return {
    enabled,
    severity,
    silenceIntervals,
    clearAfterSeconds,
    reportingIntervalSeconds: KINDS[kind].reportingIntervalSeconds,
    ...own(config.device_offline.kinds, kind),
    ...withoutKinds(inZone),
    ...own(inZone?.kinds, kind),
  };
}

/** The longest silence limit of any kind in any zone: how long a fleet outage waits before it may clear. */
export function longestSilenceMs(config: RulesConfig): number {
  const zones = ['', ...Object.keys(config.zones)];
  return Math.max(...zones.flatMap((zone) => DEVICE_KINDS.map((kind) => offlineRule(config, kind, zone))).map((rule) => rule.silenceIntervals * rule.reportingIntervalSeconds * 1000));
}

/** An event type's rule for a device of this kind in this zone (kind and zone unknown: the rule's own). */
export function eventRule(config: RulesConfig, type: string, kind?: DeviceKind, zone?: string): EventRule {
  const events = config.events;
  const inZone = zone === undefined ? undefined : own(config.zones, zone)?.events;
  const layers: (EventOverrides | undefined)[] = [kind && own(events.kinds, kind), inZone, kind && own(inZone?.kinds, kind)];
  const named = own(events.types, type) !== undefined || layers.some((layer) => own(layer?.types, type) !== undefined);
  const base: EventRule = own(events.types, type) ?? events.default;
  return layers.reduce<EventRule>((rule, layer) => ({ ...rule, ...(named ? own(layer?.types, type) : layer?.default) }), base);
}

function withoutKinds<T extends { kinds?: unknown }>(section: T | undefined): Omit<T, 'kinds'> | undefined {
  if (!section) return undefined;
  const rest: Partial<T> = { ...section };
  delete rest.kinds;
  return rest as Omit<T, 'kinds'>;
}

/** What a schema cannot say: band order, level order, severities that rise, zone ids and event type names. */
function semanticProblems(config: RulesConfig, knownZones: readonly string[] | undefined): string[] {
  const problems: string[] = [];
  const check = (prefix: string, rules: ZoneRules) => {
    const aqi = rules.air_pollution.bands;
    if (aqi.some((band, i) => i > 0 && band.aboveAqi <= (aqi[i - 1]?.aboveAqi ?? -Infinity))) {
      problems.push(`${prefix}air_pollution/bands: aboveAqi must rise from band to band`);
    }
    const speed = rules.congestion.bands;
    if (speed.some((band, i) => i > 0 && band.belowSpeedKmh >= (speed[i - 1]?.belowSpeedKmh ?? Infinity))) {
      problems.push(`${prefix}congestion/bands: belowSpeedKmh must fall from band to band`);
    }
    const flood = rules.flood;
    if ((flood.defaultAlertLevel === undefined) !== (flood.defaultDangerLevel === undefined)) {
      problems.push(`${prefix}flood: defaultAlertLevel and defaultDangerLevel go together`);
    } else if (flood.defaultAlertLevel !== undefined && flood.defaultDangerLevel !== undefined && flood.defaultDangerLevel <= flood.defaultAlertLevel) {
      problems.push(`${prefix}flood/defaultDangerLevel: must be above defaultAlertLevel`);
    }
    const rank = (severity: Severity) => severityRank(severity);
    if (rank(flood.upperWarningSeverity) < rank(flood.warningSeverity)) problems.push(`${prefix}flood/upperWarningSeverity: must not be below warningSeverity`);
    if (rank(flood.dangerSeverity) <= rank(flood.upperWarningSeverity)) problems.push(`${prefix}flood/dangerSeverity: must be above upperWarningSeverity`);
  };
  check('', { air_pollution: config.air_pollution, congestion: config.congestion, flood: config.flood });
  for (const zone of Object.keys(config.zones)) {
    if (knownZones && !knownZones.includes(zone)) problems.push(`zones/${zone}: no such zone (there are ${knownZones.join(', ')})`);
    check(`zones/${zone}/`, zoneRules(config, zone));
  }
  const pattern = new RegExp(INCIDENT_TYPE_PATTERN);
  const checkTypes = (prefix: string, types: Record<string, unknown> | undefined) => {
    for (const type of Object.keys(types ?? {})) {
      if (!pattern.test(type)) problems.push(`${prefix}types/${type}: an event type is 1–32 characters of a–z 0–9 _, starting with a letter`);
      if (RULE_TYPES.includes(type)) problems.push(`${prefix}types/${type}: that type belongs to a rule; a device event cannot open it`);
    }
  };
  const checkKinds = (prefix: string, kinds: Record<string, unknown> | undefined) => {
    for (const kind of Object.keys(kinds ?? {})) {
      if (!(DEVICE_KINDS as string[]).includes(kind)) problems.push(`${prefix}kinds/${kind}: no such device kind (there are ${DEVICE_KINDS.join(', ')})`);
    }
  };
  const checkEvents = (prefix: string, events: EventOverrides & { kinds?: Record<string, EventOverrides> | undefined }) => {
    checkTypes(prefix, events.types);
    checkKinds(prefix, events.kinds);
    for (const [kind, layer] of Object.entries(events.kinds ?? {})) checkTypes(`${prefix}kinds/${kind}/`, layer.types);
  };
  checkEvents('events/', config.events);
  checkKinds('device_offline/', config.device_offline.kinds);
  for (const [zone, overrides] of Object.entries(config.zones)) {
    if (overrides.events) checkEvents(`zones/${zone}/events/`, overrides.events);
    checkKinds(`zones/${zone}/device_offline/`, overrides.device_offline?.kinds);
  }
  return problems;
}
