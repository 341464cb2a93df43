/**
 * Writing batches of line protocol. The errors tell the caller what to do next: a TransientWriteError
 * (network, timeout, 5xx, 429, a database not created yet) means "spool and retry later"; a
 * PermanentWriteError means InfluxDB refuses this batch as it is, and retrying it will not help.
 */
import { Agent, request } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InfluxDB, HttpError, setLogger, type WriteApi } from '@influxdata/influxdb-client';
import { bodyOf, linesOf, type LineBatch } from './line-body.js';

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
  write(lines: LineBatch, oldestTs?: number): Promise<void>;
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

/**
 * InfluxDB 1.x: `POST /write?db=&rp=raw&precision=ms`, through node:http with the body as one buffer: fetch
 * copied a 5000-line batch through web streams, which cost ingest more than the writing itself.
 */
export class V1Writer implements InfluxWriter {
  private readonly endpoint: URL;
  private readonly headers: Record<string, string>;
  private readonly agent: Agent;

  constructor(
    private readonly options: { url: string; db: string; rp: string; username?: string | undefined; password?: string | undefined; timeoutMs?: number },
  ) {
    this.endpoint = new URL('/write', options.url);
    this.endpoint.search = new URLSearchParams({ db: options.db, rp: options.rp, precision: 'ms' }).toString();
    this.headers = { 'content-type': 'text/plain; charset=utf-8' };
    if (options.username) {
      this.headers.authorization = `Basic ${Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')}`;
    }
    this.agent = this.endpoint.protocol === 'https:' ? new HttpsAgent({ keepAlive: true }) : new Agent({ keepAlive: true });
  }

  async write(lines: LineBatch): Promise<void> {
    const body = bodyOf(lines);
    let answer: { status: number; text: string };
    try {
      answer = await this.post(body);
    } catch (error) {
      const cause = (error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError' ? 'no answer in time' : (error as Error).message;
      throw new TransientWriteError(`InfluxDB unreachable: ${cause}`);
    }
    if (answer.status === 204) return;
    throw classify(answer.status, answer.text.slice(0, 500));
  }

  private post(body: Buffer): Promise<{ status: number; text: string }> {
    const send = this.endpoint.protocol === 'https:' ? httpsRequest : request;
    return new Promise((resolve, reject) => {
      const outgoing = send(this.endpoint, {
        method: 'POST',
        agent: this.agent,
        headers: { ...this.headers, 'content-length': body.length },
        signal: AbortSignal.timeout(this.options.timeoutMs ?? WRITE_TIMEOUT_MS),
      });
      outgoing.once('error', reject);
      outgoing.once('response', (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.once('error', reject);
        response.once('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      });
      outgoing.end(body);
    });
  }

  ping(): Promise<boolean> {
    return ping(this.options.url);
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
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

  async write(lines: LineBatch): Promise<void> {
    this.writeApi.writeRecords([...linesOf(lines)]);
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
