/**
 * mqtt-packet caches the encoding of every remaining length under 16,384 the first time it writes one, as a
 * 4-byte slice of Node's shared 8 KiB allocation pool. Filled lazily, each slice lands in a different pool
 * slab and keeps all of it alive: a client publishing payloads of every size — the fuzzer does, an attacker
 * could — pins up to 16,384 slabs (128 MiB) in the broker for good. Filled at once, they share sixteen.
 */
import { Writable } from 'node:stream';
import mqttPacket from 'mqtt-packet';

const CACHED_LENGTHS = 16_384;
/** A PUBLISH at QoS 0 on a one-byte topic: two bytes of topic length, the topic, then the payload. */
const PUBLISH_OVERHEAD = 3;

let warmed = false;

export function warmPacketCaches(): void {
  if (warmed) return;
  warmed = true;
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const payload = Buffer.alloc(CACHED_LENGTHS);
  for (let length = PUBLISH_OVERHEAD; length < CACHED_LENGTHS; length++) {
    mqttPacket.writeToStream({ cmd: 'publish', topic: 'w', payload: payload.subarray(0, length - PUBLISH_OVERHEAD), qos: 0, retain: false, dup: false }, sink);
  }
}
