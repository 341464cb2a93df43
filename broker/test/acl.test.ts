import { describe, expect, it } from 'vitest';
import { mayPublish, maySubscribe, type Identity } from '../src/acl.js';

const device: Identity = { type: 'device', id: 'dn-aq-1' };
const service: Identity = { type: 'service', name: 'ingest' };

describe('device ACL', () => {
  it('lets a device publish only to its own telemetry and events, not its presence', () => {
    expect(mayPublish(device, 'devices/dn-aq-1/telemetry')).toBe(true);
    expect(mayPublish(device, 'devices/dn-aq-1/status')).toBe(false);
    expect(mayPublish(device, 'devices/dn-aq-1/events')).toBe(true);
    expect(mayPublish(device, 'devices/dn-aq-1/commands')).toBe(false);
    expect(mayPublish(device, 'devices/dn-aq-1/errors')).toBe(false);
    expect(mayPublish(device, 'devices/dn-aq-2/telemetry')).toBe(false);
    expect(mayPublish(device, 'devices/dn-aq-1/telemetry/extra')).toBe(false);
    expect(mayPublish(device, 'devices/../telemetry')).toBe(false);
    expect(mayPublish(device, '$SYS/anything')).toBe(false);
  });

  it('lets a device subscribe only to its own commands and errors, never to wildcards', () => {
    expect(maySubscribe(device, 'devices/dn-aq-1/commands')).toBe(true);
    expect(maySubscribe(device, 'devices/dn-aq-1/errors')).toBe(true);
    expect(maySubscribe(device, 'devices/dn-aq-1/telemetry')).toBe(false);
    expect(maySubscribe(device, 'devices/+/commands')).toBe(false);
    expect(maySubscribe(device, 'devices/#')).toBe(false);
    expect(maySubscribe(device, '#')).toBe(false);
  });
});

describe('service ACL', () => {
  it('reads every device topic and writes only platform → device channels', () => {
    expect(maySubscribe(service, 'devices/+/telemetry')).toBe(true);
    expect(maySubscribe(service, 'devices/#')).toBe(true);
    expect(maySubscribe(service, '#')).toBe(false);
    expect(mayPublish(service, 'devices/dn-aq-1/errors')).toBe(true);
    expect(mayPublish(service, 'devices/dn-aq-1/commands')).toBe(true);
    expect(mayPublish(service, 'devices/dn-aq-1/telemetry')).toBe(false);
  });
});
