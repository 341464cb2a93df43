import { describe, expect, it } from 'vitest';
import { connectionErrorReason } from '../src/connection-errors.js';

describe('connectionErrorReason', () => {
  it.each([
    ['Invalid protocol', 'protocol_violation'],
    ['# is not allowed in PUBLISH', 'invalid_topic'],
    ['topic has too many levels', 'invalid_topic'],
    ['drain timeout', 'drain_timeout'],
    ['connect did not arrive in time', 'connect_timeout'],
    ['Invalid header flag bits, must be 0x0 for pingreq packet', 'malformed_packet'],
    ['Cannot parse topic', 'malformed_packet'],
  ])('counts "%s" as %s', (message, reason) => {
    expect(connectionErrorReason(new Error(message))).toBe(reason);
  });

  it('counts nothing for what is not the client\'s doing or is counted elsewhere', () => {
    expect(connectionErrorReason(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBeUndefined();
    expect(connectionErrorReason(Object.assign(new Error('bad_credentials'), { errorCode: 4 }))).toBeUndefined();
    expect(connectionErrorReason(new Error('too many violations'))).toBeUndefined();
    expect(connectionErrorReason(Object.assign(new Error('unacceptable protocol version'), { errorCode: 1 }))).toBe('unsupported_protocol');
  });
});
