/**
 * aedes 1.x pipes what a store's stream methods return (`stream.pipe(...)`), and its in-memory store returns
 * Readables; the Redis store returns async generators, which have no `pipe`, so a SUBSCRIBE that matched a
 * retained message would throw. This makes them Readables.
 */
import { Readable } from 'node:stream';

const STREAM_METHODS = ['createRetainedStream', 'createRetainedStreamCombi', 'outgoingStream', 'streamWill', 'getClientList'] as const;
type StreamMethod = (typeof STREAM_METHODS)[number];

export function streamsAsReadables(store: Record<StreamMethod, (...args: unknown[]) => AsyncIterable<unknown>>): void {
  for (const name of STREAM_METHODS) {
    const original = store[name].bind(store);
    store[name] = (...args) => Readable.from(original(...args));
  }
}
