/**
 * What happens to a rejected reading: it is counted by reason, logged at most once per device per
 * minute (a device sending garbage at 100 messages/s must not flood the logs), and told to the device
 * on its `errors` topic at most once per second.
 */
import { deviceTopic, type Rejection, type RejectionNotice } from '@city/devices';
import type { Logger } from '@city/platform';
import type { Counter } from 'prom-client';

export interface RejectionReporterOptions {
  counter: Counter<'reason'>;
  logger: Logger;
  notify(topic: string, payload: Buffer): void;
  logIntervalMs?: number;
  notifyIntervalMs?: number;
  now?: () => number;
}

interface DeviceThrottle {
  loggedAt: number;
  notifiedAt: number;
  suppressed: number;
}

/** Bounds the per-device state, which a flood of random device ids could otherwise grow. */
const MAX_TRACKED_DEVICES = 100_000;

export class RejectionReporter {
  private readonly throttles = new Map<string, DeviceThrottle>();

  constructor(private readonly options: RejectionReporterOptions) {}

  report(deviceId: string, rejections: readonly Rejection[]): void {
    if (rejections.length === 0) return;
    for (const rejection of rejections) this.options.counter.inc({ reason: rejection.reason });
    const now = (this.options.now ?? Date.now)();
    const throttle = this.throttleFor(deviceId);
    const first = rejections[0] as Rejection;
    if (now - throttle.loggedAt >= (this.options.logIntervalMs ?? 60_000)) {
      this.options.logger.warn(
        { deviceId, reason: first.reason, detail: first.message, rejected: rejections.length, suppressed: throttle.suppressed },
        'telemetry rejected',
      );
      throttle.loggedAt = now;
      throttle.suppressed = 0;
    } else {
      throttle.suppressed += rejections.length;
    }
    if (now - throttle.notifiedAt >= (this.options.notifyIntervalMs ?? 1000)) {
      throttle.notifiedAt = now;
      const notices: RejectionNotice[] = rejections.slice(0, 20).map((rejection) => ({ ...rejection, ts: now }));
      this.options.notify(deviceTopic(deviceId, 'errors'), Buffer.from(JSON.stringify(notices.length === 1 ? notices[0] : notices)));
    }
  }

  private throttleFor(deviceId: string): DeviceThrottle {
    let throttle = this.throttles.get(deviceId);
    if (!throttle) {
      if (this.throttles.size >= MAX_TRACKED_DEVICES) this.throttles.clear();
      throttle = { loggedAt: -Infinity, notifiedAt: -Infinity, suppressed: 0 };
      this.throttles.set(deviceId, throttle);
    }
    return throttle;
  }
}
