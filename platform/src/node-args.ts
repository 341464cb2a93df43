/**
 * V8 options a service runs with, by service name, wherever it is launched: npm start, the fault stack, the bench.
 *
 * The broker's young generation is given semi-spaces of 32 MB instead of V8's 16 MB. A QoS 1 message stays alive
 * from its PUBLISH until the write-ahead log's commit and the consumer's PUBACK, a few milliseconds in which a fan-in
 * of thousands of messages a second refilled the default nursery several times: each scavenge copied, then promoted,
 * what was about to die. On the broker bench its CPU per message fell by about a quarter at QoS 1 and QoS 0, for at
 * most 32 MB more resident memory under that load.
 *
 * Ingest's too, for the same reason: a reading's line lives from its message until its batch of thousands is
 * durable, a few tens of milliseconds in which the default nursery filled and promoted lines about to die;
 * garbage collection was the largest single part of its CPU profile under end-to-end load.
 */
const SERVICE_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  broker: ['--max-semi-space-size=32'],
  ingest: ['--max-semi-space-size=32'],
};

export function nodeArgsFor(service: string): readonly string[] {
  return SERVICE_NODE_ARGS[service] ?? [];
}
