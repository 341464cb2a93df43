/** InfluxQL over the 1.x `/query` endpoint (also served by 2.x/3.x in v1-compatibility mode). */

export type Row = Record<string, unknown>;

export interface InfluxqlTarget {
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  token?: string | undefined;
}

interface QueryResponse {
  results?: { statement_id: number; error?: string; series?: { name: string; columns: string[]; values?: unknown[][]; tags?: Record<string, string> }[] }[];
  error?: string;
}

/** A query InfluxDB did not answer: `unavailable` when the server was unreachable or failed (5xx), not the query's fault. */
export class InfluxQueryError extends Error {
  override name = 'InfluxQueryError';
  constructor(
    message: string,
    readonly unavailable: boolean,
    options?: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Runs one or more `;`-separated statements and returns the rows of the last, each as an object keyed
 * by column, plus `series` (the series name) and the series' tags when grouped. Throws with InfluxDB's message.
 */
export async function influxQuery(target: InfluxqlTarget | string, db: string | undefined, q: string, timeoutMs = 30_000): Promise<Row[]> {
  const { url, username, password, token } = typeof target === 'string' ? { url: target } : target;
  const body = new URLSearchParams({ q, epoch: 'ms' });
  if (db) body.set('db', db);
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (token) headers.authorization = `Token ${token}`;
  else if (username) headers.authorization = `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  let response: Response;
  let text: string;
  try {
    response = await fetch(new URL('/query', url), { method: 'POST', body, headers, signal: AbortSignal.timeout(timeoutMs) });
    text = await response.text();
  } catch (error) {
    throw new InfluxQueryError(`InfluxDB unreachable at ${url}: ${(error as Error).message}`, true, { cause: error });
  }
  let parsed: QueryResponse;
  try {
    parsed = JSON.parse(text) as QueryResponse;
  } catch {
    throw new InfluxQueryError(`InfluxDB answered ${response.status}: ${text.slice(0, 200)}`, response.status >= 500);
  }
  if (parsed.error) throw new InfluxQueryError(`InfluxDB: ${parsed.error}`, response.status >= 500);
  const failed = parsed.results?.find((result) => result.error);
  if (failed) throw new InfluxQueryError(`InfluxDB: ${failed.error}`, false);
  if (!response.ok) throw new InfluxQueryError(`InfluxDB answered ${response.status}`, response.status >= 500);
  const last = parsed.results?.at(-1);
  return (last?.series ?? []).flatMap((series) =>
    (series.values ?? []).map((values) => {
      const row: Row = { series: series.name, ...series.tags };
      series.columns.forEach((column, index) => (row[column] = values[index]));
      return row;
    }),
  );
}
