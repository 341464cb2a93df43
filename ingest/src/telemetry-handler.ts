/**
 * The hot path: one MQTT message from `devices/{id}/telemetry` → validated readings → line protocol
 * into the batcher. A message whose readings were all rejected is acknowledged at once: it has been
 * handled, and redelivering it would not make it valid.
 */
import { deviceIdOn, parseTelemetry, type TimeWindow } from '@city/devices';
import type { Batcher } from './batcher.js';
import type { ClockReference } from './clock-reference.js';
import type { DeviceDirectory } from './device-directory.js';
import { toLine } from './line-protocol.js';
import type { IngestMetrics } from './metrics.js';
import type { InboundMessage } from './mqtt-session.js';
import type { RejectionReporter } from './rejection-reporter.js';

export interface TelemetryHandlerDeps {
  directory: DeviceDirectory;
  batcher: Batcher;
  reporter: RejectionReporter;
  metrics: IngestMetrics;
  clock: ClockReference;
  /** A fresh window for each message (the handler sets its `earliestSentAt`). */
  timeWindow(now: number): TimeWindow;
}

export function createTelemetryHandler(deps: TelemetryHandlerDeps): (message: InboundMessage) => void {
  const { directory, batcher, reporter, metrics, clock } = deps;
  return (message) => {
    metrics.messages.inc();
    const now = Date.now();
    clock.arrived(now);
    const deviceId = deviceIdOn(message.topic, 'telemetry');
    if (deviceId === undefined) {
      message.ack();
      return;
    }
    const device = directory.lookup(deviceId, now);
    if (!device) {
      reporter.report(deviceId, [{ reason: 'unknown_device', message: `device ${deviceId} is not registered` }]);
      message.ack();
      return;
    }
    const window = deps.timeWindow(now);
    window.earliestSentAt = clock.earliestSentAt(now);
    const { readings, rejections } = parseTelemetry(message.payload, device.kind, window);
    metrics.received.inc(readings.length + rejections.length);
    const sentAt = readings.at(-1)?.sentAt;
    if (sentAt !== undefined) clock.observe(now, sentAt);
    if (rejections.length > 0) reporter.report(device.id, rejections);
    if (readings.length === 0) {
      message.ack();
      return;
    }
    const lines: string[] = [];
    let oldestTs = Number.POSITIVE_INFINITY;
    for (const reading of readings) {
      lines.push(toLine(device.kind, device.id, device.zone, reading));
      if (reading.ts < oldestTs) oldestTs = reading.ts;
    }
    batcher.add(lines, message, oldestTs);
  };
}

