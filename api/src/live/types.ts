/**
 * The shape of the api's live state: what it knows of each device right now. Layers, the WebSocket
 * stream and the rules all read this one model, so that the map and the incidents never disagree.
 */
import type { DeviceAttributes, DeviceKind, MetricValue } from '@city/devices';

export type Presence = 'online' | 'offline' | 'unknown';

/** Traffic: how congested the flow is, from speed against the segment's limit and occupancy. */
export type CongestionLevel = 'free' | 'moderate' | 'heavy' | 'severe';
/** Water level against the sensor's alert and danger levels. */
export type FloodLevel = 'normal' | 'alert' | 'danger';

export interface Derived {
  /** Air quality: the hourly VN_AQI (Decision 1459/QĐ-TCMT), its category 1–6 and dominant pollutant. */
  aqi?: number;
  aqiCategory?: number;
  aqiPollutant?: string;
  congestion?: CongestionLevel;
  flood?: FloodLevel;
  /** Parking: occupied / total, 0–1. */
  occupancy?: number;
}

export interface LiveDevice {
  id: string;
  kind: DeviceKind;
  name: string | null;
  zone: string;
  lon: number;
  lat: number;
  attributes: DeviceAttributes;
  /** The road segment a traffic sensor or streetlight stands on, if any. */
  segment: string | undefined;
  presence: Presence;
  /** Epoch ms of the last presence change, or of the last message when presence is not known. */
  presenceSince: number | undefined;
  /** Epoch ms of the last reading received, whatever its own timestamp. */
  lastSeen: number | undefined;
  /** The latest reading (by its own timestamp) and that timestamp. */
  reading: Record<string, MetricValue> | undefined;
  readingTs: number | undefined;
  derived: Derived;
}

/** A device-detected event (`devices/{id}/events`), validated. */
export interface DeviceEvent {
  deviceId: string;
  type: string;
  ts: number;
  detail: Record<string, unknown>;
}
