import { afterEach, describe, expect, it } from 'vitest';
import type { DeviceEvent, LiveDevice } from '../../src/live/types.js';
import { Bench, MINUTE, SECOND, T0, liveDevice } from './fixtures.js';

let bench: Bench;
afterEach(() => bench?.close());

const camera = (id: string) => liveDevice(id, 'traffic', { segment: 'cau-rong', name: `Camera ${id}` });
const event = (device: LiveDevice, type: string, ts: number, detail: Record<string, unknown> = {}): DeviceEvent => ({ deviceId: device.id, type, ts, detail });
const HOUR = 60 * MINUTE;

describe('device events', () => {
  it('an accident opens a traffic/carAccident incident for the road segment; a second camera joins it, a worse report escalates it', () => {
    bench = new Bench();
    const west = camera('dn-cam-west');
    const east = camera('dn-cam-east');
    bench.engine.event(west, event(west, 'accident', T0, { severity: 'major', name: 'Cầu Rồng', lanesBlocked: 2 }), T0);
    bench.engine.event(east, event(east, 'accident', T0 + 30 * SECOND), T0 + 30 * SECOND);
    const [incident, ...others] = bench.incidents();
    expect(others).toEqual([]);
    expect(incident).toMatchObject({
      type: 'accident',
      category: 'traffic',
      subCategory: 'carAccident',
      severity: 'high',
      source: 'device',
      status: 'open',
      subject: { type: 'segment', id: 'cau-rong' },
      deviceId: 'dn-cam-west',
      segment: 'cau-rong',
      openedAt: T0,
    });
    expect(incident?.description).toBe('Accident reported by Camera dn-cam-west (dn-cam-west) at Cầu Rồng');
    expect(incident?.history[0]).toMatchObject({ action: 'open', actor: 'dn-cam-west' });

    bench.engine.event(west, event(west, 'accident', T0 + MINUTE, { severity: 'fatal' }), T0 + MINUTE);
    expect(bench.incidents()).toHaveLength(1);
    expect(bench.store.get(incident?.id ?? '')?.history.map(({ action, severity, actor }) => [action, severity, actor])).toEqual([
      ['open', 'high', 'dn-cam-west'],
      ['escalate', 'critical', 'dn-cam-west'],
    ]);
  });

  it('stays open until an operator resolves it; repeats do not reopen it, a new report after 15 quiet minutes does', () => {
    bench = new Bench();
    const west = camera('dn-cam-west');
    bench.run(T0, T0 + 20 * MINUTE, MINUTE, (now) => bench.engine.event(west, event(west, 'accident', now), now));
    const [first] = bench.incidents();
    bench.store.resolve(first?.id ?? '', { actor: 'operator-lan', at: T0 + 10 * MINUTE });
    bench.run(T0 + 10 * MINUTE, T0 + 20 * MINUTE, MINUTE, (now) => bench.engine.event(west, event(west, 'accident', now), now));
    bench.run(T0 + 21 * MINUTE, T0 + 35 * MINUTE, 5 * SECOND);
    expect(bench.incidents()).toHaveLength(1);

    bench.engine.event(west, event(west, 'accident', T0 + 36 * MINUTE), T0 + 36 * MINUTE);
    bench.run(T0 + 36 * MINUTE, T0 + 5 * HOUR, MINUTE);
    const [second, resolved] = bench.incidents();
    expect(resolved?.id).toBe(first?.id);
    expect(second).toMatchObject({ status: 'open', openedAt: T0 + 36 * MINUTE });
  });

  it("an event type without a rule opens an incident of that type in its device's FIWARE category, per device; severity words are understood", () => {
    bench = new Bench();
    const lamp = liveDevice('dn-light-7', 'streetlight', { segment: 'bach-dang' });
    bench.engine.event(lamp, event(lamp, 'lamp_failure', T0, { severity: 'minor', description: 'driver board not answering' }), T0);
    expect(bench.incidents()).toEqual([
      expect.objectContaining({
        type: 'lamp_failure',
        category: 'traffic',
        severity: 'low',
        subject: { type: 'device', id: 'dn-light-7' },
        description: 'Lamp failure reported by dn-light-7: driver board not answering',
      }),
    ]);
  });

  it('ignores events too old to act on and events claiming a rule’s own type', () => {
    bench = new Bench();
    const west = camera('dn-cam-west');
    bench.engine.event(west, event(west, 'accident', T0 - 2 * HOUR), T0);
    bench.engine.event(west, event(west, 'device_offline', T0), T0);
    expect(bench.incidents()).toEqual([]);
  });

  it('a restarted engine joins repeats to the open incident', () => {
    bench = new Bench();
    const west = camera('dn-cam-west');
    bench.engine.event(west, event(west, 'accident', T0), T0);
    bench.restart(T0 + 5 * MINUTE);
    bench.engine.event(west, event(west, 'accident', T0 + 6 * MINUTE, { severity: 'critical' }), T0 + 6 * MINUTE);
    expect(bench.incidents().map(({ severity, status }) => [severity, status])).toEqual([['critical', 'open']]);
  });
});
