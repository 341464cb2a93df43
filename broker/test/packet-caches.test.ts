import { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { warmPacketCaches } from '../src/packet-caches.js';

it('keeps packets of every length from pinning the allocation pool once the caches are warm', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const settled = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
    gc();
    return process.memoryUsage().arrayBuffers;
  };
  warmPacketCaches();
  const sink = new Writable({ write: (_chunk, _encoding, callback) => callback() });
  const payload = Buffer.alloc(16_384);
  const before = await settled();
  for (let length = 0; length < 16_000; length++) {
    // Other small allocations in between, as in a busy broker: each cache entry made now would sit in its own slab.
    Buffer.allocUnsafe(100);
    mqttPacket.writeToStream({ cmd: 'publish', topic: 'abc', payload: payload.subarray(0, length), qos: 0, retain: false, dup: false }, sink);
  }
  expect(await settled()).toBeLessThan(before + 256 * 1024);
});
