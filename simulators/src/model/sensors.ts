/**
 * What each kind of device measures at a moment, given the city's rhythm, the weather and any scenario.
 * Pure functions of (seed, device, time, overlay): the same inputs give the same reading.
 */
import type { MetricValue } from '@city/devices';
import type { Placement, RoadSegment } from './city-data.js';
import { gaussian, smoothNoise, uniform } from './random.js';
import { hopsFrom, roadGraph } from './road-graph.js';
import { temperature, tide, trafficDemand } from './rhythm.js';
import type { Overlay } from './scenarios.js';
import { localHour, sunTimes } from './time.js';
import { rainfall, recentRain, windSpeed } from './weather.js';

export interface World {
  seed: number;
  segments: ReadonlyMap<string, RoadSegment>;
  overlay: Overlay;
}

export type Metrics = Record<string, MetricValue>;

const HOUR = 3_600_000;
const round = (value: number, digits: number) => Number(value.toFixed(digits));
const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** Bridges and arterials carry more of the city's demand relative to their capacity, so they congest first. */
const LOAD_FACTOR: Record<RoadSegment['kind'], number> = { bridge: 1.08, arterial: 0.95, coastal: 0.75, street: 0.8 };

/**
 * What an accident does along the road graph: at the scene most of the capacity is gone and traffic
 * crawls past; on the approaches a queue backs up, reaching one junction away within ten minutes and
 * two within twenty, weaker with each junction, while drivers diverted from the scene add to their demand.
 */
const ACCIDENT_BY_HOPS = [
  { capacity: 0.15, speed: 0.2, demand: 1 },
  { capacity: 0.5, speed: 0.55, demand: 1.2 },
  { capacity: 0.75, speed: 0.8, demand: 1.1 },
] as const;
const QUEUE_MINUTES_PER_HOP = 10;

interface Impact {
  capacity: number;
  speed: number;
  demand: number;
}

function accidentImpact(world: World, segment: RoadSegment, t: number): Impact {
  let impact: Impact = { capacity: 1, speed: 1, demand: 1 };
  for (const accident of world.overlay.accidents) {
    if (t < accident.startMs || t > accident.endMs) continue;
    const hops = hopsFrom(roadGraph(world.segments), accident.segment, ACCIDENT_BY_HOPS.length - 1).get(segment.id);
    if (hops === undefined) continue;
    const full = ACCIDENT_BY_HOPS[hops] as Impact;
    const reached = hops === 0 ? 1 : Math.min(1, (t - accident.startMs) / (hops * QUEUE_MINUTES_PER_HOP * 60_000));
    const here = { capacity: 1 - (1 - full.capacity) * reached, speed: 1 - (1 - full.speed) * reached, demand: 1 + (full.demand - 1) * reached };
    if (here.capacity < impact.capacity) impact = here;
  }
  return impact;
}

export interface FlowState {
  intensity: number;
  speed: number;
  occupancy: number;
}

/** The flow on a segment: demand against capacity, and speed from the BPR volume–delay curve. */
export function segmentFlow(world: World, segment: RoadSegment, t: number, sensorKey = segment.id): FlowState {
  const impact = accidentImpact(world, segment, t);
  const demand = trafficDemand(t) * LOAD_FACTOR[segment.kind] * impact.demand * (1 + 0.06 * smoothNoise(t, 15 * 60_000, world.seed, sensorKey, 'demand'));
  const capacity = segment.capacity * impact.capacity;
  const wanted = segment.capacity * clamp(demand, 0.01, 1.3);
  const ratio = wanted / capacity;
  const speed = (impact.speed * segment.speedLimit * 0.9) / (1 + 0.15 * ratio ** 4 * 4);
  // Past capacity, fewer vehicles get through, not more.
  const intensity = ratio <= 1 ? wanted : capacity * Math.max(0.3, 2 - ratio);
  const occupancy = clamp(0.02 + 0.55 * ratio * ((segment.speedLimit * 0.9) / speed) * 0.35, 0, 0.98);
  return { intensity, speed, occupancy };
}

function traffic(world: World, device: Placement, t: number): Metrics {
  const segment = device.segment ? world.segments.get(device.segment) : undefined;
  if (!segment) throw new Error(`traffic sensor ${device.id} names no known segment`);
  const flow = segmentFlow(world, segment, t, segment.id);
  const noise = 1 + 0.03 * gaussian(world.seed, device.id, t);
  const speed = clamp(flow.speed * noise, 1, 120);
  return {
    intensity: Math.round(flow.intensity * noise),
    averageVehicleSpeed: round(speed, 1),
    occupancy: round(flow.occupancy, 3),
    congested: speed < 15,
  };
}

/** City-wide traffic emissions lagged by `lagHours`: pollution builds up after the rush. */
const laggedTraffic = (t: number, lagHours: number) => 0.5 * trafficDemand(t - lagHours * HOUR) + 0.5 * trafficDemand(t - (lagHours + 1) * HOUR);

function pollutionFactor(world: World, t: number): number {
  return world.overlay.pollution.reduce((factor, episode) => (t >= episode.startMs && t <= episode.endMs ? Math.max(factor, episode.factor) : factor), 1);
}

/** How much wind spreads what traffic emits: 1 in a typical 3 m/s breeze, more in calm air, less in a gale. */
const windDilution = (wind: number) => ((1 + 3) / (1 + wind)) ** 0.7;

function airQuality(world: World, device: Placement, t: number): Metrics {
  const site = 0.8 + 0.5 * uniform(world.seed, device.id, 'site');
  const roadside = device.nearSegment ? 1.25 : 1;
  const washout = 1 / (1 + 0.08 * recentRain(world.seed, t, world.overlay.storms, 3));
  const dilution = windDilution(windSpeed(world.seed, t, world.overlay.storms));
  const episode = pollutionFactor(world, t);
  const drift = 1 + 0.12 * smoothNoise(t, 2 * HOUR, world.seed, device.id, 'aq');
  const pm25 = (12 + 38 * laggedTraffic(t, 1) * roadside) * site * washout * dilution * drift * episode;
  const no2 = (8 + 45 * laggedTraffic(t, 0.5) * roadside) * site * dilution * drift * Math.sqrt(episode);
  const hour = localHour(t);
  const sun = Math.max(0, Math.sin(((hour - 6) / 12) * Math.PI));
  const temp = temperature(t) - 2.5 * Math.min(1, rainfall(world.seed, t, world.overlay.storms) / 5);
  return {
    pm25: round(pm25, 1),
    pm10: round(pm25 * (1.5 + 0.2 * uniform(world.seed, device.id, 'coarse')), 1),
    no2: round(no2, 1),
    o3: round((20 + 70 * sun) * (1.1 - 0.3 * laggedTraffic(t, 0)) * drift, 1),
    so2: round((4 + 6 * laggedTraffic(t, 1)) * site, 1),
    co: round((350 + 900 * laggedTraffic(t, 0.5) * roadside) * drift, 0),
    temperature: round(temp + 0.3 * gaussian(world.seed, device.id, 'temp', t), 1),
    relativeHumidity: round(clamp(0.62 + 0.18 * Math.cos(((hour - 4) / 24) * 2 * Math.PI) + 0.02 * rainfall(world.seed, t, world.overlay.storms), 0.35, 0.99), 2),
  };
}

function noise(world: World, device: Placement, t: number): Metrics {
  const segment = device.nearSegment ? world.segments.get(device.nearSegment) : undefined;
  const intensity = segment ? segmentFlow(world, segment, t).intensity : 1500 * trafficDemand(t);
  const laeq = 42 + 9 * Math.log10(1 + intensity / 20) + 1.5 * gaussian(world.seed, device.id, t);
  return { LAeq: round(clamp(laeq, 30, 110), 1), LAmax: round(clamp(laeq + 9 + 6 * uniform(world.seed, device.id, 'peak', t), 35, 130), 1) };
}

function waterLevel(world: World, device: Placement, t: number): Metrics {
  const base = device.baseLevel ?? 0;
  const rain = rainfall(world.seed, t, world.overlay.storms);
  const standing = recentRain(world.seed, t, world.overlay.storms);
  const rise = device.riverside ? tide(t) + 0.02 * standing : 0.012 * standing * (0.8 + 0.4 * uniform(world.seed, device.id, 'basin'));
  return {
    currentLevel: round(base + rise + 0.005 * gaussian(world.seed, device.id, t), 3),
    rainfall: round(rain, 1),
  };
}

function parking(world: World, device: Placement, t: number): Metrics {
  const total = device.totalSpotNumber ?? 100;
  const hour = localHour(t);
  const daytime = 0.15 + 0.7 * Math.exp(-((hour - 11) ** 2) / 18) + 0.45 * Math.exp(-((hour - 19.5) ** 2) / 6);
  const share = clamp(daytime * (0.85 + 0.2 * uniform(world.seed, device.id, 'site')) + 0.05 * smoothNoise(t, HOUR, world.seed, device.id), 0, 1);
  return { occupiedSpotNumber: Math.round(share * total), totalSpotNumber: total };
}

/** Lights switch on at sunset and off at sunrise, and dim to half between 23:00 and 05:00; about 2 % are faulty. */
function streetlight(world: World, device: Placement, t: number): Metrics {
  const hour = localHour(t);
  const { sunrise, sunset } = sunTimes(t);
  const dark = hour >= sunset || hour < sunrise;
  const late = hour >= 23 || hour < 5;
  const faulty = uniform(world.seed, device.id, 'fault') < 0.02;
  if (!dark || faulty) return { powerState: 'off', illuminanceLevel: 0, powerConsumption: faulty && dark ? 0 : round(0.4 * uniform(world.seed, device.id, t), 1) };
  const level = late ? 0.5 : 1;
  const rated = 120 + 60 * uniform(world.seed, device.id, 'rating');
  return { powerState: late ? 'low' : 'on', illuminanceLevel: level, powerConsumption: round(rated * level * (0.97 + 0.03 * uniform(world.seed, device.id, t)), 1) };
}

const BY_KIND = { traffic, air_quality: airQuality, noise, water_level: waterLevel, parking, streetlight };

export function readingFor(world: World, device: Placement, t: number): Metrics {
  return BY_KIND[device.kind](world, device, t);
}
