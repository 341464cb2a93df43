import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { LiveDevice } from '../../src/live/types.js';
import { streamFilter } from '../../src/stream/stream-filter.js';
import { StreamHub } from '../../src/stream/stream-hub.js';

const device = { id: 'n-1', kind: 'noise', zone: 'hai-chau', lon: 108.2, lat: 16.05, presence: 'online', derived: {} } as unknown as LiveDevice;
const quiet = { ...device, id: 'n-quiet' };

function fakeSocket() {
  const sent: { at: number; type: string }[] = [];
  const socket = {
    OPEN: 1,
    readyState: 1,
    bufferedAmount: 0,
    on: () => socket,
    close: () => undefined,
    send: (data: string) => sent.push({ at: Date.now(), type: (JSON.parse(data) as { type: string }).type }),
  };
  return { socket: socket as unknown as WebSocket, sent };
}

afterEach(() => vi.useRealTimers());

describe('the stream pace', () => {
  it('sends a waiting change the moment a second has passed since the client\'s last message, not at the next shared tick', () => {
    vi.useFakeTimers({ now: 0 });
    const hub = new StreamHub({ devices: () => [device], device: () => device, segments: () => [], segment: () => undefined, incidents: () => [] });
    vi.advanceTimersByTime(50);
    const { socket, sent } = fakeSocket();
    hub.add(socket);
    vi.advanceTimersByTime(900);
    hub.deviceChanged(device, 'reading');
    vi.advanceTimersByTime(99);
    expect(sent.map((message) => message.type)).toEqual(['snapshot']);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([
      { at: 50, type: 'snapshot' },
      { at: 1050, type: 'delta' },
    ]);
    // Changes all the time: exactly one message a second, none sooner.
    for (let t = 0; t < 3000; t += 10) {
      hub.deviceChanged(device, 'reading');
      vi.advanceTimersByTime(10);
    }
    expect(sent.slice(2).map((message) => message.at)).toEqual([2050, 3050, 4050]);
    hub.close();
  });

  it('gives a client that follows a quiet device its change at once, where the whole city\'s client waits for its pace', () => {
    vi.useFakeTimers({ now: 0 });
    const devices = new Map([device, quiet].map((d) => [d.id, d]));
    const hub = new StreamHub({ devices: () => devices.values(), device: (id) => devices.get(id), segments: () => [], segment: () => undefined, incidents: () => [] });
    const whole = fakeSocket();
    const following = fakeSocket();
    hub.add(whole.socket);
    hub.add(following.socket, streamFilter({ devices: 'n-quiet' }));
    // The busy device changes all the time; the quiet one once, 1.5 s in.
    for (let t = 0; t < 3000; t += 10) {
      if (t === 1500) hub.deviceChanged(quiet, 'reading');
      hub.deviceChanged(device, 'reading');
      vi.advanceTimersByTime(10);
    }
    expect(whole.sent.map((message) => message.at)).toEqual([0, 1000, 2000, 3000]);
    expect(following.sent).toEqual([
      { at: 0, type: 'snapshot' },
      { at: 1500, type: 'delta' },
    ]);
    hub.close();
  });
});

describe('which incidents a following client gets', () => {
  const deviceOf = (id: string) => (id === device.id ? device : undefined);

  it('sends an incident about a device with that device, and one about a place by its zone to a client that follows zones only', () => {
    expect(streamFilter({ devices: 'n-1' })?.incident({ deviceId: 'n-1', zone: 'hai-chau' }, deviceOf)).toBe(true);
    expect(streamFilter({ devices: 'n-2' })?.incident({ deviceId: 'n-1', zone: 'hai-chau' }, deviceOf)).toBe(false);
    expect(streamFilter({ kinds: 'noise' })?.incident({ deviceId: 'n-1' }, deviceOf)).toBe(true);
    expect(streamFilter({ kinds: 'flood' })?.incident({ deviceId: 'n-1' }, deviceOf)).toBe(false);
    expect(streamFilter({ zones: 'hai-chau' })?.incident({ zone: 'hai-chau' }, deviceOf)).toBe(true);
    expect(streamFilter({ zones: 'son-tra' })?.incident({ zone: 'hai-chau' }, deviceOf)).toBe(false);
    expect(streamFilter({ devices: 'n-1' })?.incident({ zone: 'hai-chau' }, deviceOf)).toBe(false);
  });

  it('follows the whole city when nothing narrows it', () => {
    expect(streamFilter({})).toBeUndefined();
  });
});
