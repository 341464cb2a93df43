/**
 * Main-thread time out of a Chromium trace: the renderer's top-level tasks (`toplevel`), the time inside them
 * spent blocked in the compositor's Commit (`Commit`: with software WebGL, the wait for the GPU process to
 * draw the frame), and the User Timing marks of the console's stream messages that divide them into deltas.
 */
import type { Percentiles } from './console-bench-types.js';

export const TRACE_CATEGORIES = ['toplevel', 'blink.user_timing', 'disabled-by-default-devtools.timeline'];

interface TraceEvent {
  name: string;
  cat: string;
  ph: string;
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  args?: { name?: string };
}

export interface MainThreadTasks {
  /** Top-level tasks of the page's main thread, outermost only, in µs of the trace clock. */
  tasks: { start: number; dur: number }[];
  /** The main thread blocked in the compositor's Commit, within those tasks. */
  commits: { start: number; dur: number }[];
  /** Where each measure of that name began. */
  marks: number[];
}

/** The renderer main thread is the one whose process recorded the named User Timing measures. */
export function mainThreadTasks(trace: { traceEvents: TraceEvent[] } | TraceEvent[], measure: string): MainThreadTasks {
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const marks = events.filter((e) => e.cat.includes('blink.user_timing') && e.name === measure && (e.ph === 'b' || e.ph === 'X' || e.ph === 'R'));
  const pid = marks[0]?.pid ?? events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain')?.pid;
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === pid && e.args?.name === 'CrRendererMain');
  const tasks: MainThreadTasks['tasks'] = [];
  let end = -Infinity;
  for (const e of events.filter((x) => x.pid === pid && x.tid === main?.tid && x.ph === 'X' && x.cat.includes('toplevel')).sort((a, b) => a.ts - b.ts)) {
    // A nested run loop reports tasks inside a task: count the outer one only.
    if (e.ts < end) continue;
    tasks.push({ start: e.ts, dur: e.dur ?? 0 });
    end = e.ts + (e.dur ?? 0);
  }
  const commits = events.filter((e) => e.pid === pid && e.tid === main?.tid && e.ph === 'X' && e.name === 'Commit').map((e) => ({ start: e.ts, dur: e.dur ?? 0 }));
  return { tasks, commits: commits.sort((a, b) => a.start - b.start), marks: marks.map((e) => e.ts).sort((a, b) => a - b) };
}

/** Task time (ms) in each interval between consecutive boundaries (µs); a task counts where it starts. */
export function busyPerInterval(tasks: MainThreadTasks['tasks'], boundaries: number[]): number[] {
  const busy = boundaries.slice(1).map(() => 0);
  let i = 0;
  for (const task of tasks) {
    while (i < busy.length && task.start >= boundaries[i + 1]!) i += 1;
    if (i >= busy.length) break;
    if (task.start >= boundaries[i]!) busy[i]! += task.dur / 1000;
  }
  return busy;
}

/** Boundaries every `stepUs` from the first task to the last, for a window with no marks to divide it. */
export function evenBoundaries(tasks: MainThreadTasks['tasks'], stepUs: number): number[] {
  if (tasks.length === 0) return [];
  const first = tasks[0]!.start;
  const last = tasks[tasks.length - 1]!.start;
  return Array.from({ length: Math.floor((last - first) / stepUs) + 1 }, (_, k) => first + k * stepUs);
}

export function percentiles(values: readonly number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN).toFixed(1));
  return { n: sorted.length, p50: at(0.5), p95: at(0.95), max: at(1) };
}
