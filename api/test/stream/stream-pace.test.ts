import { afterEach, describe, expect, it, vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { LiveDevice } from '../../src/live/types.js';
import { StreamHub } from '../../src/stream/stream-hub.js';

const device = { id: 'n-1', kind: 'noise', zone: 'hai-chau', lon: 108.2, lat: 16.05, presence: 'online', derived: {} } as unknown as LiveDevice;

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
});
