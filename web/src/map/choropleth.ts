/**
 * Zone colourings: one per metric a zone can be coloured by, live (the zones layer's summary) or from
 * history. Pollutant bands follow the VN_AQI breakpoints of Decision 1459, so that a zone's colour reads
 * like the AQI an operator already knows.
 */
import type { ExpressionSpecification } from '@maplibre/maplibre-gl-style-spec';
import { BREAKPOINTS } from '../../../api/src/live/vn-aqi.js';
import { AQI_BANDS, NOISE_STEPS } from '../layers/palette.js';

export interface Choropleth {
  /** The zone property holding the value. */
  property: string;
  steps: { from: number; color: string }[];
}

const AQI_COLORS = AQI_BANDS.map((band) => band.color);

/** The VN_AQI band colours at a pollutant's breakpoints (the first five, where each band starts). */
function pollutantSteps(pollutant: keyof typeof BREAKPOINTS): Choropleth['steps'] {
  return AQI_COLORS.map((color, index) => ({ from: BREAKPOINTS[pollutant][index]!, color }));
}

export const CHOROPLETHS: Record<string, Choropleth> = {
  // An AQI band holds whole numbers: 50.5 already rounds into "moderate".
  aqiMax: { property: 'aqiMax', steps: AQI_COLORS.map((color, index) => ({ from: [0, 50.5, 100.5, 150.5, 200.5, 300.5][index]!, color })) },
  pm25Mean: { property: 'pm25Mean', steps: pollutantSteps('pm25') },
  noiseMean: { property: 'noiseMean', steps: [...NOISE_STEPS] },
  openIncidents: { property: 'openIncidents', steps: [{ from: 0, color: '#1c2633' }, { from: 1, color: '#f4d03f' }, { from: 3, color: '#ff8c1a' }, { from: 6, color: '#ff2d55' }] },
  offline: { property: 'offline', steps: [{ from: 0, color: '#1c2633' }, { from: 1, color: '#f4d03f' }, { from: 5, color: '#ff8c1a' }, { from: 20, color: '#ff2d55' }] },
  pm25: { property: 'historyValue', steps: pollutantSteps('pm25') },
  pm10: { property: 'historyValue', steps: pollutantSteps('pm10') },
  no2: { property: 'historyValue', steps: pollutantSteps('no2') },
  LAeq: { property: 'historyValue', steps: [...NOISE_STEPS] },
};

export const LIVE_CHOROPLETHS = ['aqiMax', 'pm25Mean', 'noiseMean', 'openIncidents', 'offline'] as const;

export function choroplethColor({ property, steps }: Choropleth): ExpressionSpecification {
  const [first, ...rest] = steps;
  // The zones' values are feature-state (map/feature-state.ts).
  const value: ExpressionSpecification = ['feature-state', property];
  return ['case', ['==', ['typeof', value], 'number'], ['step', ['number', value], first!.color, ...rest.flatMap((step) => [step.from, step.color])], 'rgba(0,0,0,0)'];
}
