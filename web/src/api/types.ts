/** The api's contract as the console reads it (see api/src: layers, stream, incidents, history). */
import type { DeviceKind } from '@city/devices';

export const ROLES = ['viewer', 'operator', 'planner', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  username: string;
  role: Role;
}

export interface LoginAnswer {
  token: string;
  expiresAt: number;
  user: User;
}

export const LAYER_NAMES = ['traffic', 'environment', 'flood', 'parking', 'streetlights', 'incidents', 'zones'] as const;
export type LayerName = (typeof LAYER_NAMES)[number];

export type Properties = Record<string, unknown>;

export interface Feature {
  type: 'Feature';
  id: string;
  geometry: { type: string; coordinates: unknown };
  properties: Properties;
}

export interface FeatureCollection {
  type: 'FeatureCollection';
  features: Feature[];
}

// The device contract lives once, in devices/; a type-only import, so nothing of it enters the bundle.
export type { DeviceKind } from '@city/devices';
export type Presence = 'online' | 'offline' | 'unknown';
export type Congestion = 'free' | 'moderate' | 'heavy' | 'severe' | 'unknown';

/** A device as the stream sends it. */
export interface StreamDevice {
  id: string;
  kind: DeviceKind;
  zone: string;
  lon: number;
  lat: number;
  presence: Presence;
  readingTs: number | null;
  reading: Record<string, number | string | boolean> | null;
  derived: { aqi?: number; aqiCategory?: number; aqiPollutant?: string; congestion?: Congestion; flood?: string; occupancy?: number };
  segment: string | null;
  /** Streetlights only: `offline`, `lamp_failure` (lit but drawing under 1 W) or null, as the api judges it. */
  fault?: string | null;
}

export interface SegmentState {
  id: string;
  sensors: number;
  reporting: number;
  averageVehicleSpeed?: number;
  intensity?: number;
  occupancy?: number;
  congestion?: Congestion;
  updatedAt?: number;
}

export const SEVERITIES = ['informational', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** The FIWARE Alert categories; the api also shows `other` on incidents of earlier versions, but takes only these for new reports. */
export const FIWARE_CATEGORIES = ['traffic', 'naturalDisaster', 'weather', 'environment', 'health', 'security', 'agriculture'] as const;
export type IncidentStatus = 'open' | 'acknowledged' | 'resolved';

export interface IncidentHistoryEntry {
  at: number;
  actor: string;
  action: string;
  note?: string;
  severity?: Severity;
}

export interface Incident {
  id: string;
  type: string;
  category: string;
  subCategory?: string;
  severity: Severity;
  status: IncidentStatus;
  source?: string;
  deviceId?: string;
  segment?: string;
  zone?: string | null;
  lon: number;
  lat: number;
  description: string;
  value?: number;
  assignee?: string;
  openedAt: number;
  updatedAt?: number;
  acknowledgedAt?: number;
  acknowledgedBy?: string;
  resolvedAt?: number;
  resolvedBy?: string;
  history?: IncidentHistoryEntry[];
}

export interface SnapshotMessage {
  type: 'snapshot';
  ts: number;
  devices: StreamDevice[];
  segments: Record<string, SegmentState | null>;
  incidents: Incident[];
}

export interface DeltaMessage {
  type: 'delta';
  ts: number;
  devices: StreamDevice[];
  removed: string[];
  segments: Record<string, SegmentState | null>;
  incidents: Incident[];
}

export type StreamMessage = SnapshotMessage | DeltaMessage;

export type SeriesPoint = [number, number | null];

export interface HistoryAnswer {
  kind: DeviceKind;
  metric: string;
  agg: string;
  every: string;
  from: number;
  to: number;
  source: string;
  approximate: boolean;
  unit: string | null;
  series: { key: { device?: string; zone?: string; segment?: string }; points: SeriesPoint[] }[];
}

export interface DeviceDetails {
  id: string;
  kind: DeviceKind;
  name: string | null;
  lon: number;
  lat: number;
  zone: string;
  attributes: Record<string, unknown>;
  presence: Presence;
  presenceSince: number | null;
  lastSeen: number | null;
  segment: string | null;
  reading: Record<string, unknown> | null;
  readingTs: number | null;
  derived: Record<string, unknown>;
}

export interface Health {
  status: 'up' | 'down';
  components: Record<string, 'up' | 'down'>;
}
