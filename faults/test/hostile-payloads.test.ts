import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { DEVICE_KINDS, DEVICE_PUBLISH_CHANNELS, defaultTimeWindow, parseDeviceTopic, parseTelemetry, type DeviceKind } from '@city/devices';
import { HOSTILE_CATEGORIES, hostileMessage, type HostileContext } from '../src/hostile-payloads.js';
import { RAW_ATTACK_CATEGORIES, rawAttack, type RawAttack } from '../src/raw-mqtt.js';
import { SeededRandom } from '../src/seeded-random.js';

const now = Date.UTC(2026, 5, 1, 12);
const contextFor = (kind: DeviceKind): HostileContext => ({
  deviceId: `fuzz-${kind}`,
  kind,
  otherDeviceId: 'dn-victim',
  atLimitPayloadBytes: 65_536 - 4 - `devices/fuzz-${kind}/telemetry`.length,
  now,
});

describe('hostile payloads', () => {
  it('are a function of the seed', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      const hash = createHash('sha256');
      for (let i = 0; i < 500; i++) {
        const message = hostileMessage(random, contextFor('streetlight'));
        hash.update(message.mode === 'topic' ? message.topic : JSON.stringify(message.rejections)).update(message.payload);
      }
      return hash.digest('hex');
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
  });

  it.each(DEVICE_KINDS)('are refused by validation for exactly the reasons they claim, for a %s device', (kind) => {
    const random = new SeededRandom(42);
    const context = contextFor(kind);
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) {
      const message = hostileMessage(random, context);
      seen.add(message.category);
      if (message.mode === 'topic') {
        const topic = parseDeviceTopic(message.topic);
        expect(topic && topic.deviceId === context.deviceId && DEVICE_PUBLISH_CHANNELS.includes(topic.channel), message.topic).toBeFalsy();
        continue;
      }
      expect(message.payload.length).toBeLessThanOrEqual(context.atLimitPayloadBytes);
      const { readings, rejections } = parseTelemetry(message.payload, kind, defaultTimeWindow(now));
      const counted: Record<string, number> = {};
      for (const { reason } of rejections) counted[reason] = (counted[reason] ?? 0) + 1;
      expect(readings, `${message.category}: ${message.payload.toString().slice(0, 200)}`).toEqual([]);
      expect(counted, `${message.category}: ${message.payload.toString().slice(0, 200)}`).toEqual(message.rejections);
    }
    expect([...seen].sort()).toEqual([...HOSTILE_CATEGORIES].sort());
  });
});

describe('raw MQTT attacks', () => {
  const context = { deviceId: 'fuzz-raw', maxPacketBytes: 65_536 };

  it('are a function of the seed and cover every category', () => {
    const draw = (seed: number) => {
      const random = new SeededRandom(seed);
      return Array.from({ length: 500 }, () => rawAttack(random, context));
    };
    const digest = (attacks: RawAttack[]) => createHash('sha256').update(JSON.stringify(attacks.map(({ bytes, ...rest }) => [rest, bytes.toString('base64')]))).digest('hex');
    expect(digest(draw(3))).toEqual(digest(draw(3)));
    expect(digest(draw(3))).not.toEqual(digest(draw(4)));
    expect(new Set(draw(3).map((attack) => attack.category))).toEqual(new Set(RAW_ATTACK_CATEGORIES));
  });

  it('claim a malformed packet only for bytes the MQTT parser refuses', () => {
    const random = new SeededRandom(5);
    for (let i = 0; i < 500; i++) {
      const attack = rawAttack(random, context);
      if (attack.expect?.reason !== 'malformed_packet') continue;
      const parser = mqttPacket.parser();
      let error: Error | undefined;
      parser.on('error', (e: Error) => (error = e));
      parser.parse(attack.bytes);
      expect(error, attack.bytes.toString('hex')).toBeDefined();
    }
  });
});
