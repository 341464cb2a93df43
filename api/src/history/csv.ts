/**
 * History as CSV, streamed: the range is read in windows of whole intervals, one InfluxDB query per
 * series and window, and each window is written before the one after next is asked for. Memory holds
 * two windows of aggregates whatever the range; raw readings never leave InfluxDB.
 */
import { Readable } from 'node:stream';
import { timeWindows, type TimeRange } from './plan.js';
import type { SeriesKey } from './series-keys.js';

/** Values per window, over all series: a few hundred queries for a year of minutes. */
export const CSV_WINDOW_POINTS = 10_000;

export interface CsvExport {
  range: TimeRange;
  everyMs: number;
  keys: readonly SeriesKey[];
  /** The header of the value column, e.g. `pm25_mean`. */
  valueColumn: string;
  read(key: SeriesKey, window: TimeRange): Promise<ReadonlyMap<number, number>>;
  windowPoints?: number;
}

/** Windows of whole intervals, each with at most `windowPoints` values over all series. */
export function csvWindows(exported: Pick<CsvExport, 'range' | 'everyMs' | 'keys' | 'windowPoints'>): TimeRange[] {
  return timeWindows(exported.range, exported.everyMs, (exported.windowPoints ?? CSV_WINDOW_POINTS) / Math.max(1, exported.keys.length));
}

const csvField = (text: string) => (/[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text);

/** The header and the first window come together, so that a failing first query fails before anything is sent. */
export async function* csvChunks(exported: CsvExport): AsyncGenerator<string> {
  const windows = csvWindows(exported);
  const fetchWindow = (window: TimeRange) => {
    const values = Promise.all(exported.keys.map((key) => exported.read(key, window)));
    // Awaited later, or dropped when the client goes away mid-export: then nobody should hear of its failure.
    values.catch(() => undefined);
    return values;
  };
  const keyName = exported.keys[0]?.name ?? 'key';
  let text = `time,${keyName},${csvField(exported.valueColumn)}\n`;
  let next = windows[0] && fetchWindow(windows[0]);
  for (const [index, window] of windows.entries()) {
    const values = await (next as ReturnType<typeof fetchWindow>);
    const following = windows[index + 1];
    next = following && fetchWindow(following);
    const lines: string[] = [];
    for (let time = window.from; time < window.to; time += exported.everyMs) {
      const iso = new Date(time).toISOString();
      exported.keys.forEach((key, keyIndex) => lines.push(`${iso},${csvField(key.id)},${values[keyIndex]?.get(time) ?? ''}\n`));
    }
    text += lines.join('');
    yield text;
    text = '';
  }
  if (text) yield text;
}

/** A stream of the export, opened once its first window has been read. */
export async function openCsvStream(exported: CsvExport): Promise<Readable> {
  const chunks = csvChunks(exported);
  const first = await chunks.next();
  async function* rest() {
    try {
      if (first.done) return;
      yield first.value;
      yield* chunks;
    } finally {
      await chunks.return(undefined);
    }
  }
  return Readable.from(rest(), { objectMode: false });
}
