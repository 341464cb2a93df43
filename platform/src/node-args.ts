/**
 * V8 options a service runs with, by service name, wherever it is launched: npm start, the fault stack, the bench.
 *
 * The broker's young generation is given semi-spaces of 32 MB instead of V8's 16 MB. A QoS 1 message stays alive
 * from its PUBLISH until the write-ahead log's commit and the consumer's PUBACK, a few milliseconds in which a fan-in
 * of thousands of messages a second refilled the default nursery several times: each scavenge copied, then promoted,
 * what was about to die. On the broker bench its CPU per message fell by about a quarter at QoS 1 and QoS 0, for at
 * most 32 MB more resident memory under that load. They are 64 MB since the broker collects on one thread (below):
 * what a scavenge copies is the messages a consumer has not yet acknowledged, about the same at every scavenge, so
 * half as many scavenges copy half as much. In one end-to-end run, 350 scavenges took 6.6 s of the broker's time at
 * 32 MB, and 165 took 4.3 s at 64 MB.
 *
 * Ingest's too, for the same reason: a reading's line lives from its message until its batch of thousands is
 * durable, a few tens of milliseconds in which the default nursery filled and promoted lines about to die;
 * garbage collection was the largest single part of its CPU profile under end-to-end load.
 *
 * Both collect garbage on their own thread only (`--single-threaded-gc`). The services share the box's cores with
 * each other and with InfluxDB, and under load none of them is idle: V8's helper threads for parallel scavenges and
 * concurrent marking then take cores another service needed, and cost their synchronization on top. A/B on the
 * end-to-end bench, 2 pairs: broker CPU per reading 14.7 → 13.9 and 15.4 → 14.3 µs, readings/s +2.6 % and +3.6 %.
 */
const SERVICE_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  broker: ['--max-semi-space-size=64', '--single-threaded-gc'],
  ingest: ['--max-semi-space-size=32', '--single-threaded-gc'],
};

export function nodeArgsFor(service: string): readonly string[] {
  return SERVICE_NODE_ARGS[service] ?? [];
}
