import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Map as MaplibreMap } from 'maplibre-gl';
import { spaceFrames } from '../../src/map/frame-spacing.js';

/** Stands in for maplibre's map: `triggerRepaint` on its prototype, counting the frames asked of it. */
class FakeMap {
  frames = 0;
  triggerRepaint(): void {
    this.frames += 1;
  }
}

describe('frames spaced while the first data loads', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('draws the first request at once and joins the requests within the gap into one frame at its end', () => {
    const map = new FakeMap();
    spaceFrames(map as unknown as MaplibreMap, 300);
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
    const spacing = spaceFrames(map as unknown as MaplibreMap, 300);
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
});
