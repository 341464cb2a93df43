/**
 * Valid devices publishing at a steady rate through the device SDK while a fault plays out: what the
 * platform must keep serving. It knows every reading it sent and which the broker acknowledged, so that
 * a test can compare with what InfluxDB holds, and it times each acknowledgement.
 */
import { DeviceClient, type DeviceKind } from '@city/devices';
import { validReading } from './hostile-payloads.js';

export interface FleetDevice {
  id: string;
  secret: string;
  kind: DeviceKind;
}

export interface FleetReport {
  devices: number;
  targetRate: number;
  seconds: number;
  sent: number;
  acknowledged: number;
  /** Readings the SDK had to buffer because its connection was gone. */
  buffered: number;
  reconnects: number;
  acknowledgedPerDevice: Record<string, number>;
  latencyMs: { p50: number; p99: number; max: number };
}

const TICK_MS = 20;

export class SteadyFleet {
  private readonly sentPerDevice = new Map<string, number>();
  private readonly ackedPerDevice = new Map<string, number>();
  private readonly lastTs = new Map<string, number>();
  private readonly latencies: number[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private buffered = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  private constructor(
    private readonly clients: { device: FleetDevice; client: DeviceClient }[],
    private readonly ratePerSecond: number,
  ) {}

  /** Connects every device, then publishes `ratePerSecond` readings in total, round-robin. */
  static async start(url: string, devices: FleetDevice[], ratePerSecond: number): Promise<SteadyFleet> {
    const clients = devices.map((device) => ({ device, client: new DeviceClient({ url, deviceId: device.id, secret: device.secret }) }));
    await Promise.all(clients.map(({ client }) => client.connect()));
    const fleet = new SteadyFleet(clients, ratePerSecond);
    fleet.run();
    return fleet;
  }

  get acknowledged(): number {
    let total = 0;
    for (const count of this.ackedPerDevice.values()) total += count;
    return total;
  }

  private run(): void {
    this.startedAt = performance.now();
    let budget = 0;
    let last = this.startedAt;
    let cursor = 0;
    this.timer = setInterval(() => {
      const now = performance.now();
      budget = Math.min(budget + ((now - last) / 1000) * this.ratePerSecond, this.ratePerSecond);
      last = now;
      for (; budget >= 1; budget--) this.publish(this.clients[cursor++ % this.clients.length] as (typeof this.clients)[number]);
    }, TICK_MS);
  }

  private publish({ device, client }: { device: FleetDevice; client: DeviceClient }): void {
    // One timestamp per reading and device: a repeated one would overwrite a point in InfluxDB and hide a loss.
    const ts = Math.max(Date.now(), (this.lastTs.get(device.id) ?? 0) + 1);
    this.lastTs.set(device.id, ts);
    this.sentPerDevice.set(device.id, (this.sentPerDevice.get(device.id) ?? 0) + 1);
    const started = performance.now();
    const publishing = client.publishTelemetry({ ts, ...(validReading(device.kind) as Record<string, number | string | boolean>) }).then(
      ({ buffered }) => {
        if (buffered) this.buffered++;
        else {
          this.ackedPerDevice.set(device.id, (this.ackedPerDevice.get(device.id) ?? 0) + 1);
          this.latencies.push(performance.now() - started);
        }
      },
      () => undefined,
    );
    this.inFlight.add(publishing);
    void publishing.finally(() => this.inFlight.delete(publishing));
  }

  /** Stops publishing, waits for the acknowledgements still due, disconnects and reports. */
  async stop(): Promise<FleetReport> {
    clearInterval(this.timer);
    const seconds = (performance.now() - this.startedAt) / 1000;
    await Promise.all([...this.inFlight]);
    const reconnects = this.clients.reduce((total, { client }) => total + client.stats().reconnects, 0);
    await Promise.all(this.clients.map(({ client }) => client.close()));
    const sorted = [...this.latencies].sort((a, b) => a - b);
    const at = (q: number) => Number((sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0).toFixed(1));
    let sent = 0;
    for (const count of this.sentPerDevice.values()) sent += count;
    return {
      devices: this.clients.length,
      targetRate: this.ratePerSecond,
      seconds: Number(seconds.toFixed(1)),
      sent,
      acknowledged: this.acknowledged,
      buffered: this.buffered,
      reconnects,
      acknowledgedPerDevice: Object.fromEntries(this.ackedPerDevice),
      latencyMs: { p50: at(0.5), p99: at(0.99), max: Number((sorted.at(-1) ?? 0).toFixed(1)) },
    };
  }
}
