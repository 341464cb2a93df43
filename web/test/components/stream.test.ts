import { describe, expect, it, vi } from 'vitest';
import { backoffDelay, LiveStream, type ConnectionState } from '../../src/live/stream.js';

class FakeSocket {
  onmessage: ((event: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  close = vi.fn();
}

describe('live stream', () => {
  it('backs off exponentially with jitter up to 30 s', () => {
    expect(backoffDelay(0, () => 0)).toBe(500);
    expect(backoffDelay(0, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 1)).toBe(8000);
    expect(backoffDelay(10, () => 1)).toBe(30_000);
  });

  it('reconnects by itself after a drop, and resets the back-off on the next snapshot', async () => {
    vi.useFakeTimers();
    const sockets: FakeSocket[] = [];
    const states: ConnectionState[] = [];
    const messages: unknown[] = [];
    const stream = new LiveStream({
      url: () => 'ws://test/api/v1/stream',
      createSocket: () => {
        const socket = new FakeSocket();
        sockets.push(socket);
        return socket as unknown as WebSocket;
      },
      onMessage: (message) => messages.push(message),
      onState: (state) => states.push(state),
      random: () => 1,
    });
    stream.start();
    sockets[0]!.onmessage!({ data: JSON.stringify({ type: 'snapshot', ts: 1, devices: [], segments: {}, incidents: [] }) });
    expect(states.at(-1)).toBe('live');
    sockets[0]!.onclose!();
    expect(states.at(-1)).toBe('reconnecting');
    await vi.advanceTimersByTimeAsync(1000);
    expect(sockets).toHaveLength(2);
    sockets[1]!.onmessage!({ data: JSON.stringify({ type: 'snapshot', ts: 2, devices: [], segments: {}, incidents: [] }) });
    expect(states.at(-1)).toBe('live');
    expect(messages).toHaveLength(2);
    stream.stop();
    vi.useRealTimers();
  });
});
