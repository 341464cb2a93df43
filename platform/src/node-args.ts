/**
 * V8 options a service runs with, by service name, wherever it is launched: npm start, the fault stack, the bench.
 *
 * The broker's young generation is given semi-spaces of 32 MB instead of V8's 16 MB. A QoS 1 message stays alive
 * from its PUBLISH until the write-ahead log's commit and the consumer's PUBACK, a few milliseconds in which a fan-in
 * of thousands of messages a second refilled the default nursery several times: each scavenge copied, then promoted,
 * what was about to die. On the broker bench its CPU per message fell by about a quarter at QoS 1 and QoS 0, for at
 * most 32 MB more resident memory under that load. They are 128 MB since the broker collects on one thread (below):
 * under the end-to-end load a message lives a few tenths of a second (its device's PUBACK after the log's commit,
 * then the consumer's PUBACK after ingest's batch is durable), about one scavenge interval at 32 MB, so most were
 * copied and then promoted, to die in the old generation. Its garbage collection time in one run each (--trace-gc):
 * 32 MB, 350 scavenges 6.6 s; 64 MB, 184 scavenges 5.4 s and mark-compacts 6.4 s; 128 MB, 122 scavenges 3.5 s and
 * mark-compacts 5.6 s; 256 MB no less than 128. The young generation grows to it only under load; the cost is
 * resident memory: 15,000 connections took 27.7 KiB each in the connections bench, against 18–21 KiB at 32 MB.
 *
 * Ingest's too, for the same reason: a reading's line lives from its message until its batch of thousands is
 * durable, a few tens of milliseconds in which the default nursery filled and promoted lines about to die;
 * garbage collection was the largest single part of its CPU profile under end-to-end load.
 *
 * Both collect garbage on their own thread only (`--single-threaded-gc`). The services share the box's cores with
 * each other and with InfluxDB, and under load none of them is idle: V8's helper threads for parallel scavenges and
 * concurrent marking then take cores another service needed, and cost their synchronization on top. A/B on the
 * end-to-end bench, 2 pairs: broker CPU per reading 14.7 → 13.9 and 15.4 → 14.3 µs, readings/s +2.6 % and +3.6 %.
 *
 * Both let their old generation grow to a fixed multiple of what a mark-compact left live (`--heap-growing-percent`)
 * before the next one: three times for the broker, five times for ingest. What each keeps for long is small (tens
 * of MB), and V8's own factor, sized for it, ran a full collection every two scavenges or so under load: in one
 * end-to-end run each (--trace-gc), ingest's mark-compacts 51 taking 2.5 s → 12 taking 0.5 s, and the broker's 9 taking
 * 0.6 s (52 taking 3.8 s in the run before its queues became rings), for an old generation a few tens of MB larger.
 */
const SERVICE_NODE_ARGS: Readonly<Record<string, readonly string[]>> = {
  broker: ['--max-semi-space-size=128', '--single-threaded-gc', '--heap-growing-percent=200'],
  ingest: ['--max-semi-space-size=32', '--single-threaded-gc', '--heap-growing-percent=400'],
};

export function nodeArgsFor(service: string): readonly string[] {
  return SERVICE_NODE_ARGS[service] ?? [];
}
