/**
 * Frames at most one per `gapMs` while the console's first data loads. In software WebGL (a wall screen's PC
 * without a GPU, headless Chromium) a frame holds the main thread and a core for 0.15–0.3 s, and maplibre draws
 * one for every batch of tiles its worker sends: back to back, they left the worker that cuts those tiles less of
 * the CPU, and the page's controls waited behind them. maplibre asks for each frame through `triggerRepaint` and
 * draws it on the next animation frame; a request within the gap waits out the rest of it, and requests in the
 * meantime join it, so nothing asked for is lost, only drawn together.
 */
import type { Map as MaplibreMap } from 'maplibre-gl';

export interface FrameSpacing {
  /** Back to maplibre's own pace, with a frame for anything held. */
  end(): void;
}

export interface FrameSpacingOptions {
  gapMs: number;
  /**
   * True once a frame would show the whole map (every tile in): that frame is not held, nor the ones that
   * follow it (maplibre places the labels of new tiles a frame later), since waiting then only delays the map.
   */
  complete?: () => boolean;
}

export function spaceFrames(map: MaplibreMap, { gapMs, complete = () => false }: FrameSpacingOptions): FrameSpacing {
  const repaint = map.triggerRepaint.bind(map);
  let held: ReturnType<typeof setTimeout> | undefined;
  let last = -Infinity;
  let ended = false;
  const draw = () => {
    clearTimeout(held);
    held = undefined;
    last = performance.now();
    repaint();
  };
  map.triggerRepaint = () => {
    if (complete()) return draw();
    if (held !== undefined) return;
    const wait = last + gapMs - performance.now();
    if (wait <= 0) draw();
    else held = setTimeout(draw, wait);
  };
  return {
    end() {
      if (ended) return;
      ended = true;
      const wasHeld = held !== undefined;
      clearTimeout(held);
      delete (map as { triggerRepaint?: unknown }).triggerRepaint;
      if (wasHeld) map.triggerRepaint();
    },
  };
}

/**
 * Spaced frames while loading; back to every frame at the first move someone asks for (a gesture, a camera
 * animation). A resize fires `movestart` too, just before its `resize`: the page's layout settling as it starts
 * is no one moving the map, and taking it for one had ended the spacing before the first data came.
 */
export function spaceFramesUntilMoved(map: MaplibreMap, options: FrameSpacingOptions): FrameSpacing {
  const spacing = spaceFrames(map, options);
  let resized = false;
  const resize = () => (resized = true);
  const moved = () =>
    queueMicrotask(() => {
      if (!resized) end();
      resized = false;
    });
  const end = () => {
    map.off('resize', resize);
    map.off('movestart', moved);
    spacing.end();
  };
  map.on('resize', resize);
  map.on('movestart', moved);
  return { end };
}
