/**
 * Turns a scenario name into changes to the running city: an overlay the sensors read, and for some
 * scenarios actions (the bridge camera's accident event, a device's broken firmware).
 */
import type { Logger } from '@city/platform';
import type { LiveFleet } from './live-fleet.js';
import type { Placement } from './model/city-data.js';
import { uniform } from './model/random.js';
import type { ScenarioName } from './model/scenarios.js';
import type { World } from './model/sensors.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export interface ScenarioOutcome {
  scenario: ScenarioName;
  startMs: number;
  endMs: number;
  devices: string[];
  detail: Record<string, unknown>;
}

export async function runScenario(name: ScenarioName, now: number, world: World, placements: readonly Placement[], fleet: LiveFleet | undefined, logger: Logger): Promise<ScenarioOutcome> {
  const pick = <T>(items: readonly T[], key: string): T => items[Math.floor(uniform(world.seed, key, now) * items.length)] as T;
  switch (name) {
    case 'accident': {
      const bridges = [...world.segments.values()].filter((segment) => segment.kind === 'bridge' && placements.some((p) => p.camera && p.segment === segment.id));
      const bridge = pick(bridges, 'accident');
      const endMs = now + 45 * MINUTE;
      world.overlay.accidents.push({ segment: bridge.id, startMs: now, endMs });
      const camera = placements.find((p) => p.camera && p.segment === bridge.id);
      if (camera && fleet) {
        await fleet.publishEvent(camera.id, { type: 'accident', detail: { segment: bridge.id, name: bridge.name, severity: 'major', lanesBlocked: Math.max(1, bridge.lanes - 1) } });
      }
      logger.info({ segment: bridge.id }, 'scenario: accident');
      return { scenario: name, startMs: now, endMs, devices: camera ? [camera.id] : [], detail: { segment: bridge.id, name: bridge.name } };
    }
    case 'flood': {
      const endMs = now + 3 * HOUR;
      world.overlay.storms.push({ startMs: now - 30 * MINUTE, endMs, peakMmPerHour: 90 });
      const gauges = placements.filter((p) => p.kind === 'water_level').map((p) => p.id);
      logger.info('scenario: flood');
      return { scenario: name, startMs: now, endMs, devices: gauges, detail: { peakMmPerHour: 90 } };
    }
    case 'pollution': {
      const endMs = now + 6 * HOUR;
      world.overlay.pollution.push({ startMs: now, endMs, factor: 4.5 });
      logger.info('scenario: pollution episode');
      return { scenario: name, startMs: now, endMs, devices: placements.filter((p) => p.kind === 'air_quality').map((p) => p.id), detail: { factor: 4.5 } };
    }
    case 'silent': {
      const endMs = now + HOUR;
      const chosen = [...placements].sort((a, b) => uniform(world.seed, a.id, now) - uniform(world.seed, b.id, now)).slice(0, 3);
      for (const placement of chosen) world.overlay.silent.set(placement.id, endMs);
      logger.info({ devices: chosen.map((p) => p.id) }, 'scenario: devices silent');
      return { scenario: name, startMs: now, endMs, devices: chosen.map((p) => p.id), detail: {} };
    }
    case 'garbage': {
      const device = pick(placements.filter((p) => p.kind === 'noise' || p.kind === 'traffic'), 'garbage');
      const endMs = now + 10 * MINUTE;
      // The fleet reads the overlay: the device sends garbage at its reporting rhythm until endMs.
      world.overlay.garbage.set(device.id, endMs);
      logger.info({ device: device.id }, 'scenario: device sending garbage');
      return { scenario: name, startMs: now, endMs, devices: [device.id], detail: {} };
    }
  }
}
