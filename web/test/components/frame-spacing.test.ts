import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Map as MaplibreMap } from 'maplibre-gl';
import { spaceFrames, spaceFramesUntilMoved } from '../../src/map/frame-spacing.js';

/** Stands in for maplibre's map: `triggerRepaint` on its prototype, counting the frames asked of it, and its events. */
class FakeMap {
  frames = 0;
  private readonly listeners = new Map<string, Set<() => void>>();
  triggerRepaint(): void {
    this.frames += 1;
  }
  on(type: string, listener: () => void): void {
    this.listeners.set(type, (this.listeners.get(type) ?? new Set()).add(listener));
  }
  off(type: string, listener: () => void): void {
    this.listeners.get(type)?.delete(listener);
  }
  fire(type: string): void {
    for (const listener of [...(this.listeners.get(type) ?? [])]) listener();
  }
  /** What maplibre's `resize` fires, in its order. */
  resize(): void {
    this.fire('movestart');
    this.fire('resize');
  }
}

describe('frames spaced while the first data loads', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('draws the first request at once and joins the requests within the gap into one frame at its end', () => {
    const map = new FakeMap();
    spaceFrames(map as unknown as MaplibreMap, { gapMs: 300 });
    map.triggerRepaint();
    expect(map.frames).toBe(1);
    for (let n = 0; n < 5; n++) {
      vi.advanceTimersByTime(50);
      map.triggerRepaint();
    }
    expect(map.frames).toBe(1);
    vi.advanceTimersByTime(50);
    expect(map.frames).toBe(2);
    vi.advanceTimersByTime(1000);
    expect(map.frames).toBe(2);
  });

  it('goes back to the map\'s own pace when ended, drawing a held frame at once', () => {
    const map = new FakeMap();
    const spacing = spaceFrames(map as unknown as MaplibreMap, { gapMs: 300 });
    map.triggerRepaint();
    map.triggerRepaint();
    expect(map.frames).toBe(1);
    spacing.end();
    expect(map.frames).toBe(2);
    expect(Object.hasOwn(map, 'triggerRepaint')).toBe(false);
    map.triggerRepaint();
    map.triggerRepaint();
    expect(map.frames).toBe(4);
    vi.advanceTimersByTime(1000);
    expect(map.frames).toBe(4);
    spacing.end();
    expect(map.frames).toBe(4);
  });

  it('draws at once from the moment a frame would show the whole map', () => {
    const map = new FakeMap();
    let complete = false;
    spaceFrames(map as unknown as MaplibreMap, { gapMs: 300, complete: () => complete });
    map.triggerRepaint();
    map.triggerRepaint();
    expect(map.frames).toBe(1);
    complete = true;
    map.triggerRepaint();
    expect(map.frames).toBe(2);
    map.triggerRepaint();
    expect(map.frames).toBe(3);
    // The frame held before was drawn with them, not again at the end of its gap.
    vi.advanceTimersByTime(1000);
    expect(map.frames).toBe(3);
  });

  it('keeps spacing through a resize and ends at the first move', async () => {
    const map = new FakeMap();
    spaceFramesUntilMoved(map as unknown as MaplibreMap, { gapMs: 300 });
    map.triggerRepaint();
    map.resize();
    await Promise.resolve();
    map.triggerRepaint();
    expect(map.frames).toBe(1);
    expect(Object.hasOwn(map, 'triggerRepaint')).toBe(true);
    map.fire('movestart');
    await Promise.resolve();
    expect(Object.hasOwn(map, 'triggerRepaint')).toBe(false);
    // The frame held when the move began is drawn then.
    expect(map.frames).toBe(2);
  });
});
