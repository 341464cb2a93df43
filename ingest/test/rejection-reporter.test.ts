import { describe, expect, it } from 'vitest';
import { Counter, Registry } from 'prom-client';
import { createLogger } from '@city/platform';
import { RejectionReporter } from '../src/rejection-reporter.js';

describe('RejectionReporter', () => {
  it('counts every rejection, notifies the device at most once a second and logs at most once a minute', async () => {
    const registry = new Registry();
    const counter = new Counter({ name: 'rejected', help: 'rejected', labelNames: ['reason'] as const, registers: [registry] });
    const notices: { topic: string; body: unknown }[] = [];
    const logged: string[] = [];
    const logger = createLogger('test', 'warn', { hooks: { logMethod: (args) => void logged.push(String(args[args.length - 1])) } });
    let now = 0;
    const reporter = new RejectionReporter({ counter, logger, notify: (topic, payload) => notices.push({ topic, body: JSON.parse(payload.toString()) }), now: () => now });

    for (let i = 0; i < 100; i++) {
      reporter.report('dn-x', [{ reason: 'invalid_json', message: 'payload is not JSON' }]);
      now += 100;
    }
    const values = (await counter.get()).values;
    expect(values.find((value) => value.labels.reason === 'invalid_json')?.value).toBe(100);
    expect(notices).toHaveLength(10);
    expect(notices[0]).toEqual({ topic: 'devices/dn-x/errors', body: { reason: 'invalid_json', message: 'payload is not JSON', ts: 0 } });
    expect(logged.filter((line) => line === 'telemetry rejected')).toHaveLength(1);
  });
});
