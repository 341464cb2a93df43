/**
 * Scripted situations a demo or a test triggers by name. Each is data laid over the normal rhythm for a
 * while; the sensors read the overlay, so live and backfilled readings see the same event.
 */
import type { Storm } from './weather.js';

export const SCENARIO_NAMES = ['accident', 'flood', 'pollution', 'silent', 'garbage'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

export interface Accident {
  segment: string;
  startMs: number;
  endMs: number;
}

export interface PollutionEpisode {
  startMs: number;
  endMs: number;
  factor: number;
}

export interface Overlay {
  accidents: Accident[];
  storms: Storm[];
  pollution: PollutionEpisode[];
  /** Devices that stop publishing until the time given. */
  silent: Map<string, number>;
  /** Devices that send malformed payloads until the time given. */
  garbage: Map<string, number>;
}

export function emptyOverlay(): Overlay {
  return { accidents: [], storms: [], pollution: [], silent: new Map(), garbage: new Map() };
}

export const SCENARIO_DESCRIPTIONS: Record<ScenarioName, { en: string; vi: string }> = {
  accident: {
    en: 'a traffic accident on a bridge: speed collapses there and upstream, the bridge camera reports it',
    vi: 'tai nạn giao thông trên cầu: tốc độ giảm mạnh tại cầu và các đoạn phía trước, camera trên cầu báo sự cố',
  },
  flood: {
    en: 'a storm: three hours of torrential rain, low points rise past their alert and danger levels',
    vi: 'mưa bão: ba giờ mưa rất to, các điểm trũng vượt mức cảnh báo và mức nguy hiểm',
  },
  pollution: {
    en: 'an air-pollution episode: PM2.5, PM10 and NO2 several times their usual level for six hours',
    vi: 'đợt ô nhiễm không khí: PM2.5, PM10 và NO2 cao gấp nhiều lần bình thường trong sáu giờ',
  },
  silent: {
    en: 'three devices stop publishing for an hour while staying connected (a hung sensor), then resume',
    vi: 'ba thiết bị vẫn kết nối nhưng ngừng gửi dữ liệu trong một giờ (cảm biến bị treo), rồi gửi lại',
  },
  garbage: {
    en: 'a device sends a mix of malformed messages at its reporting rhythm for ten minutes, then recovers',
    vi: 'một thiết bị gửi xen kẽ nhiều loại dữ liệu sai định dạng theo nhịp báo cáo trong mười phút, rồi trở lại bình thường',
  },
};
