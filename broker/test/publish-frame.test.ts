import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { readPubackFrame, readPublishFrame } from '../src/publish-frame.js';

const TOPIC = 'devices/dn-traffic-1/telemetry';
const publish = (fields: Partial<mqttPacket.IPublishPacket> = {}) =>
  mqttPacket.generate({ cmd: 'publish', topic: TOPIC, payload: Buffer.from('{"intensity":12}'), qos: 1, messageId: 513, retain: false, dup: false, ...fields } as mqttPacket.IPublishPacket);

describe('readPublishFrame', () => {
  it('reads QoS 1 PUBLISH packets as mqtt-packet writes them, one after the other', () => {
    const bytes = Buffer.concat([publish({ dup: true }), publish({ messageId: 65_535, payload: Buffer.alloc(300, 0x41) })]);
    const first = readPublishFrame(bytes, 0, 100);
    expect(first).toMatchObject({ topic: TOPIC, dup: true, messageId: 513 });
    expect(first?.payload.toString()).toBe('{"intensity":12}');
    const second = readPublishFrame(bytes, first?.end as number, 100);
    expect(second).toMatchObject({ topic: TOPIC, dup: false, messageId: 65_535, end: bytes.length });
    expect(second?.payload.length).toBe(300);
  });

  it("reads the topic right whatever the connection's last topic was: the same, one of its length, or another", () => {
    for (const lastTopic of [TOPIC, 'devices/dn-traffic-2/telemetry', 'devices/dn-traffic-1/telemetrx', 'xevices/dn-traffic-1/telemetry', 'devices/d1/telemetry', '']) {
      expect(readPublishFrame(publish(), 0, 100, lastTopic)?.topic).toBe(TOPIC);
    }
  });

  it('leaves to aedes what it does not handle: other packets, QoS 0 and 2, retained, wildcards, $ topics, other bytes, deep topics', () => {
    const refused = [
      mqttPacket.generate({ cmd: 'pingreq' }),
      publish({ qos: 0, messageId: undefined }),
      publish({ qos: 2 }),
      publish({ retain: true }),
      publish({ topic: 'devices/+/telemetry' }),
      publish({ topic: 'devices/#' }),
      publish({ topic: '$SYS/broker' }),
      publish({ topic: 'devices/cảm-biến/telemetry' }),
      publish({ topic: 'a/b/c/d' }),
    ];
    for (const bytes of refused) expect(readPublishFrame(bytes, 0, 3)).toBeUndefined();
  });

  it('leaves a frame cut short or inconsistent to aedes', () => {
    const whole = publish();
    for (let cut = 0; cut < whole.length; cut++) expect(readPublishFrame(whole.subarray(0, cut), 0, 100)).toBeUndefined();
    // A topic longer than the packet, a missing packet identifier, identifier 0, a fifth length byte.
    expect(readPublishFrame(Buffer.from([0x32, 0x04, 0x00, 0x09, 0x61, 0x62]), 0, 100)).toBeUndefined();
    expect(readPublishFrame(Buffer.from([0x32, 0x03, 0x00, 0x01, 0x61]), 0, 100)).toBeUndefined();
    const zeroId = publish();
    zeroId.writeUInt16BE(0, 2 + 2 + TOPIC.length);
    expect(readPublishFrame(zeroId, 0, 100)).toBeUndefined();
    expect(readPublishFrame(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), 0, 100)).toBeUndefined();
  });

  it('reads a PUBACK\'s packet identifier, and nothing from a PUBACK cut short or another packet', () => {
    const puback = mqttPacket.generate({ cmd: 'puback', messageId: 4242 });
    expect(readPubackFrame(Buffer.concat([publish(), puback]), publish().length)).toBe(4242);
    expect(readPubackFrame(puback.subarray(0, 3), 0)).toBeUndefined();
    expect(readPubackFrame(mqttPacket.generate({ cmd: 'pubrec', messageId: 1 }), 0)).toBeUndefined();
  });
});
