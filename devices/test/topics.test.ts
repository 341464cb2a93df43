import { describe, expect, it } from 'vitest';
import { deviceIdOn, deviceTopic, parseDeviceTopic } from '../src/topics.js';

describe('device topics', () => {
  it('reads back the topics it builds, on every channel', () => {
    expect(parseDeviceTopic(deviceTopic('dn-aq-01', 'telemetry'))).toEqual({ deviceId: 'dn-aq-01', channel: 'telemetry' });
    expect(parseDeviceTopic(deviceTopic('n.1_x-2', 'commands'))).toEqual({ deviceId: 'n.1_x-2', channel: 'commands' });
    expect(deviceIdOn(deviceTopic('dn-aq-01', 'telemetry'), 'telemetry')).toBe('dn-aq-01');
  });

  it('refuses what is not one device on one known channel, whichever way it is read', () => {
    const refused = [
      'devices/dn-aq-01/other',
      'devices//telemetry',
      'devices/telemetry',
      'telemetry',
      'devices/a/b/telemetry',
      'devices/+/telemetry',
      'devices/#',
      'x/devices/dn-aq-01/telemetry',
      'devices/dn-aq-01/telemetry/',
      'devices/dn-aq-01xtelemetry',
      `devices/${'a'.repeat(65)}/telemetry`,
    ];
    for (const topic of refused) {
      expect(parseDeviceTopic(topic), topic).toBeUndefined();
      expect(deviceIdOn(topic, 'telemetry'), topic).toBeUndefined();
    }
    expect(deviceIdOn('devices/dn-aq-01/events', 'telemetry')).toBeUndefined();
  });
});
