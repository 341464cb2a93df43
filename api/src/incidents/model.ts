/**
 * An incident, after the FIWARE Alert data model (category, subCategory, severity, location), with the
 * lifecycle an operations centre needs on top: status, who acknowledged and resolved it, and its history.
 * The TypeBox schemas are the types, the API's output schema and the documentation at once.
 */
import { Type, type SchemaOptions, type Static, type TLiteral, type TUnion } from '@sinclair/typebox';
import type { DeviceKind } from '@city/devices';

type Literals<T extends readonly string[]> = { -readonly [K in keyof T]: TLiteral<T[K]> };

/** A union of string literals that keeps each literal's type (Type.Union over a mapped array widens to string). */
export function literalUnion<const T extends readonly [string, ...string[]]>(values: T, options?: SchemaOptions): TUnion<Literals<T>> {
  return Type.Union(
    values.map((value) => Type.Literal(value)),
    options,
  ) as unknown as TUnion<Literals<T>>;
}

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export const STATUSES = ['open', 'acknowledged', 'resolved'] as const;
/** The FIWARE Alert `category` values (smart-data-models dataModel.Alert, Common-Alert). The rules use only these. */
export const FIWARE_CATEGORIES = ['traffic', 'naturalDisaster', 'weather', 'environment', 'health', 'security', 'agriculture'] as const;
/**
 * What a stored incident may carry: FIWARE's seven and `other`, which is not FIWARE's — what earlier versions gave
 * device-offline incidents and unclassified reports. New incidents take FIWARE's categories only.
 */
export const CATEGORIES = [...FIWARE_CATEGORIES, 'other'] as const;
export const SOURCES = ['rule', 'device', 'manual'] as const;
export const SUBJECT_TYPES = ['device', 'segment', 'location'] as const;
export const ACTIONS = ['open', 'escalate', 'deescalate', 'acknowledge', 'assign', 'note', 'resolve', 'clear'] as const;

export type Severity = (typeof SEVERITIES)[number];
export type Status = (typeof STATUSES)[number];
export type Category = (typeof CATEGORIES)[number];
export type Source = (typeof SOURCES)[number];
export type Action = (typeof ACTIONS)[number];

export const SeveritySchema = literalUnion(SEVERITIES);
export const StatusSchema = literalUnion(STATUSES);
export const CategorySchema = literalUnion(CATEGORIES, { description: 'FIWARE Alert category; `other` (not FIWARE) only on incidents of earlier versions' });
export const FiwareCategorySchema = literalUnion(FIWARE_CATEGORIES, { description: 'FIWARE Alert category' });

/** The FIWARE category of what a kind of device watches: a fault or an event of the device concerns that domain. */
export const KIND_CATEGORY: Record<DeviceKind, Category> = {
  traffic: 'traffic',
  parking: 'traffic',
  // Street lighting is part of the road: a dark stretch is a hazard on the road.
  streetlight: 'traffic',
  air_quality: 'environment',
  noise: 'environment',
  water_level: 'naturalDisaster',
};

export function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

export const INCIDENT_TYPE_PATTERN = '^[a-z][a-z0-9_]{0,31}$';

export const SubjectSchema = Type.Object(
  { type: literalUnion(SUBJECT_TYPES), id: Type.String() },
  { description: 'What the incident is about; rule and device incidents are one per subject and type while not resolved' },
);
export type Subject = Static<typeof SubjectSchema>;

export const HistoryEntrySchema = Type.Object({
  at: Type.Integer({ description: 'epoch ms' }),
  actor: Type.String({ description: 'a username, `system` (the rule engine) or a device id' }),
  action: literalUnion(ACTIONS),
  note: Type.Optional(Type.String()),
  severity: Type.Optional(SeveritySchema),
});
export type HistoryEntry = Static<typeof HistoryEntrySchema>;

export const IncidentSchema = Type.Object({
  id: Type.String(),
  type: Type.String({ description: 'air_pollution, congestion, flood_warning, flood_danger, device_offline, devices_offline, a device event type (accident) or a manual type' }),
  category: CategorySchema,
  subCategory: Type.Optional(Type.String({ description: 'FIWARE Alert subCategory, e.g. trafficJam, carAccident, flood, airPollution' })),
  severity: SeveritySchema,
  status: StatusSchema,
  source: literalUnion(SOURCES),
  subject: SubjectSchema,
  deviceId: Type.Optional(Type.String()),
  segment: Type.Optional(Type.String()),
  zone: Type.Optional(Type.String()),
  lon: Type.Number(),
  lat: Type.Number(),
  description: Type.String(),
  value: Type.Optional(Type.Number({ description: 'the measurement that triggered the incident or its last change (AQI, km/h, m, silent seconds, devices)' })),
  assignee: Type.Optional(Type.String()),
  openedAt: Type.Integer({ description: 'epoch ms' }),
  updatedAt: Type.Integer(),
  acknowledgedAt: Type.Optional(Type.Integer()),
  acknowledgedBy: Type.Optional(Type.String()),
  resolvedAt: Type.Optional(Type.Integer()),
  resolvedBy: Type.Optional(Type.String()),
  resolution: Type.Optional(literalUnion(['resolved', 'cleared'], { description: 'resolved by a person, or cleared by the system once the condition was gone' })),
  history: Type.Array(HistoryEntrySchema),
});
export type Incident = Static<typeof IncidentSchema>;

export interface NewIncident {
  type: string;
  category: Category;
  subCategory?: string | undefined;
  severity: Severity;
  source: Source;
  subject: Subject;
  deviceId?: string | undefined;
  segment?: string | undefined;
  zone?: string | undefined;
  lon: number;
  lat: number;
  description: string;
  value?: number | undefined;
  assignee?: string | undefined;
}

/** Who acts, when (epoch ms; the store's clock by default) and why. */
export interface ActionInput {
  actor: string;
  at?: number | undefined;
  note?: string | undefined;
}

/** What a severity change may rewrite besides the severity: a flood warning becomes a flood danger. */
export interface SeverityChange extends ActionInput {
  type?: string | undefined;
  value?: number | undefined;
  description?: string | undefined;
}

export const SYSTEM_ACTOR = 'system';
