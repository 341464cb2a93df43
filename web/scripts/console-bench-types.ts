/**
 * The console measurement's inputs and figures, apart from the code that takes them: the bench (type-checked
 * without the DOM) imports these, while console-bench.ts, which drives a page, is checked under web/tsconfig.json.
 */

export interface ConsoleBenchOptions {
  devices: number;
  /** Readings a second fed to the api's live state, spread over the devices. */
  rate: number;
  /** Seconds of live deltas measured after the first complete map. */
  windowS: number;
  /** Seconds measured with the feed paused: what the page costs when nothing arrives. */
  quietS: number;
  log(line: string): void;
  /** Chromium traces of the load (and `-baseline`, `-deltas`, `-quiet`), to open in devtools' Performance panel. */
  startupTracePath?: string;
}

export interface Percentiles {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export interface PageStartup {
  /** Navigation → the layers fetched and handed to the map (`city:layers-loaded`). */
  layersLoadedMs: number | null;
  /** Navigation → the stream's snapshot applied. */
  snapshotAppliedMs: number | null;
  /** How long applying the snapshot took (store and map). */
  snapshotApplyMs: number | null;
  /** Navigation → the first map `idle` with the layers and snapshot in, and every device in the rendered layers. */
  firstCompleteMs: number;
  /** Unique device ids in the device layers' rendered features at that moment. */
  renderedDevices: number;
}

export interface ConsoleBenchFigures {
  devices: number;
  readingsPerSecond: number;
  /** The same page, map style and platform with no devices. */
  baseline: PageStartup;
  startup: PageStartup;
  /** Main-thread task time from each delta's arrival to the next one's (everything the page did for it), ms. */
  deltaMainThreadMs: Percentiles;
  /** The same without the time blocked in the compositor's Commit (waiting for the GPU process), ms. */
  deltaPageWorkMs: Percentiles;
  /** The console's own handler per delta (store, map calls), the `city:stream-message` User Timing, ms. */
  deltaHandlerMs: Percentiles;
  devicesPerDelta: Percentiles;
  /** Main-thread task time per second with the feed paused, ms. */
  quietMainThreadMs: Percentiles;
  /** Top-level tasks over 50 ms while deltas arrived. */
  longTasks: Percentiles & { busyShare: number };
}
