import { act, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConnectionIndicator } from '../../src/live/ConnectionIndicator.js';
import { LiveStore } from '../../src/live/live-store.js';

describe('connection indicator', () => {
  afterEach(() => vi.useRealTimers());

  it('counts down to the next attempt while reconnecting, and keeps no clock running once live', () => {
    vi.useFakeTimers();
    const store = new LiveStore();
    const view = render(<ConnectionIndicator state="reconnecting" retryAt={Date.now() + 3000} store={store} />);
    expect(screen.getByRole('status').textContent).toContain('thử lại sau 3 giây');
    act(() => vi.advanceTimersByTime(1000));
    expect(screen.getByRole('status').textContent).toContain('thử lại sau 2 giây');
    view.rerender(<ConnectionIndicator state="live" retryAt={undefined} store={store} />);
    // An idle wall screen: nothing left to wake the page every second.
    expect(vi.getTimerCount()).toBe(0);
    expect(screen.getByRole('status').dataset.state).toBe('live');
  });
});
