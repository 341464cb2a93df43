/**
 * Writing batches of line protocol. The errors tell the caller what to do next: a TransientWriteError
 * (network, timeout, 5xx, 429, a database not created yet) means "spool and retry later"; a
 * PermanentWriteError means InfluxDB refuses this batch as it is, and retrying it will not help.
 */
import { InfluxDB, HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';

// The client would print its own errors to the console; ours are logged once, with context, by the caller.
setLogger({ error: () => undefined, warn: () => undefined });

export class TransientWriteError extends Error {
  override name = 'TransientWriteError';
}

export class PermanentWriteError extends Error {
  override name = 'PermanentWriteError';
}

export interface InfluxWriter {
  /** `oldestTs`, when known, is the oldest timestamp among the lines (for a wrapper that watches them; the writers ignore it). */
  write(lines: string[], oldestTs?: number): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export interface InfluxWriterConfig {
  INFLUX_URL: string;
  INFLUX_DB: string;
  INFLUX_USERNAME?: string | undefined;
  INFLUX_PASSWORD?: string | undefined;
  INFLUX_TOKEN?: string | undefined;
  INFLUX_ORG?: string | undefined;
  INFLUX_BUCKET?: string | undefined;
}

const WRITE_TIMEOUT_MS = 10_000;

function classify(status: number, message: string): Error {
  // Not the batch's fault, so it waits in the spool: 404 "database not found" (InfluxDB came back
  // empty; the layout is recreated shortly) and 401/403 (credentials an operator is about to fix).
  if (status >= 500 || status === 429 || status === 404 || status === 401 || status === 403) {
    return new TransientWriteError(`InfluxDB answered ${status}: ${message}`);
  }
  return new PermanentWriteError(`InfluxDB refused the batch (${status}): ${message}`);
}

async function ping(url: string): Promise<boolean> {
  try {
    const response = await fetch(new URL('/ping', url), { signal: AbortSignal.timeout(2000) });
    return response.status === 204 || response.ok;
  } catch {
    return false;
  }
}

/** InfluxDB 1.x: `POST /write?db=&rp=raw&precision=ms`. */
export class V1Writer implements InfluxWriter {
  private readonly endpoint: URL;
  private readonly headers: Record<string, string>;

  constructor(
    private readonly options: { url: string; db: string; rp: string; username?: string | undefined; password?: string | undefined; timeoutMs?: number },
  ) {
    this.endpoint = new URL('/write', options.url);
    this.endpoint.search = new URLSearchParams({ db: options.db, rp: options.rp, precision: 'ms' }).toString();
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (options.username) {
      this.headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
  }

  async write(lines: string[]): Promise<void> {
    let response: Response;
    try {
      response = await fetch(this.endpoint, {
        method: 'POST',
        body: lines.join('\n'),
        headers: this.headers,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? WRITE_TIMEOUT_MS),
      });
    } catch (error) {
      throw new TransientWriteError(`InfluxDB unreachable: ${(error as Error).cause ?? (error as Error).message}`);
    }
    if (response.status === 204) return;
    throw classify(response.status, (await response.text().catch(() => '')).slice(0, 500));
  }

  ping(): Promise<boolean> {
    return ping(this.options.url);
  }

  async close(): Promise<void> {}
}

/**
 * InfluxDB 2.x/3.x through the official client, with its own retrying and buffering off: the spool
 * is the only place a failed batch waits. (InfluxDB 1.6.7 has no /api/v2 and answers 404.)
 */
export class V2Writer implements InfluxWriter {
  private readonly writeApi: WriteApi;

  constructor(private readonly options: { url: string; org: string; bucket: string; token: string; timeoutMs?: number }) {
    const client = new InfluxDB({ url: options.url, token: options.token, timeout: options.timeoutMs ?? WRITE_TIMEOUT_MS });
    this.writeApi = client.getWriteApi(options.org, options.bucket, 'ms', { maxRetries: 0, batchSize: 1_000_000, flushInterval: 0, maxBufferLines: 10_000_000 });
  }

  async write(lines: string[]): Promise<void> {
    this.writeApi.writeRecords(lines);
    try {
      await this.writeApi.flush();
    } catch (error) {
      if (error instanceof HttpError) throw classify(error.statusCode, error.body || error.message);
      throw new TransientWriteError(`InfluxDB unreachable: ${(error as Error).message}`);
    }
  }

  ping(): Promise<boolean> {
    return ping(this.options.url);
  }

  async close(): Promise<void> {
    await this.writeApi.close().catch(() => undefined);
  }
}

export function createInfluxWriter(config: InfluxWriterConfig): InfluxWriter {
  if (config.INFLUX_TOKEN && config.INFLUX_ORG && config.INFLUX_BUCKET) {
    return new V2Writer({ url: config.INFLUX_URL, org: config.INFLUX_ORG, bucket: config.INFLUX_BUCKET, token: config.INFLUX_TOKEN });
  }
  return new V1Writer({ url: config.INFLUX_URL, db: config.INFLUX_DB, rp: 'raw', username: config.INFLUX_USERNAME, password: config.INFLUX_PASSWORD });
}
