/** A small HTTP control port on the running fleet, so that `npm run sim -- --scenario <name>` reaches it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SCENARIO_NAMES, type ScenarioName } from './model/scenarios.js';
import type { ScenarioOutcome } from './scenario-runner.js';

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

export interface ControlHandlers {
  scenario(name: ScenarioName): Promise<ScenarioOutcome>;
  /** Starts a history backfill through the fleet's own connections; its progress goes to the fleet's log. */
  backfill(days: number, months: number): void;
  status(): unknown;
}

export async function startControlServer(port: number, handlers: ControlHandlers): Promise<ControlServer> {
  const server: Server = createServer((request, response) => {
    const send = (code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const url = new URL(request.url ?? '/', 'http://localhost');
    const match = /^\/scenarios\/([a-z]+)$/.exec(url.pathname);
    if (request.method === 'GET' && url.pathname === '/status') return send(200, handlers.status());
    if (request.method === 'POST' && url.pathname === '/backfill') {
      const days = Number(url.searchParams.get('days') ?? 0);
      const months = Number(url.searchParams.get('months') ?? 0);
      if (!(days >= 0 && days <= 30) || !(months >= 0)) return send(400, { error: 'days must be 0–30 and months 0 or more' });
      handlers.backfill(days, months);
      return send(202, { days, months });
    }
    if (request.method !== 'POST' || !match) return send(404, { error: 'POST /scenarios/<name>, POST /backfill?days=&months= or GET /status' });
    const name = match[1] as ScenarioName;
    if (!SCENARIO_NAMES.includes(name)) return send(400, { error: `unknown scenario ${name}; one of ${SCENARIO_NAMES.join(', ')}` });
    handlers.scenario(name).then(
      (outcome) => send(200, outcome),
      (error: Error) => send(500, { error: error.message }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { port: (server.address() as AddressInfo).port, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** Asks the running fleet to act (POST) or how it is (GET); `undefined` when no fleet answers on the port. */
export async function askFleet<T>(port: number, path: string, method: 'GET' | 'POST' = 'POST'): Promise<T | undefined> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}${path}`, { method, signal: AbortSignal.timeout(10_000) });
  } catch {
    return undefined;
  }
  const body = (await response.json()) as T & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `the fleet answered ${response.status}`);
  return body;
}
