/** A small HTTP control port on the running fleet, so that `npm run sim -- --scenario <name>` reaches it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SCENARIO_NAMES, type ScenarioName } from './model/scenarios.js';
import type { ScenarioOutcome } from './scenario-runner.js';

export interface ControlServer {
  port: number;
  close(): Promise<void>;
}

export async function startControlServer(port: number, trigger: (name: ScenarioName) => Promise<ScenarioOutcome>, status: () => unknown): Promise<ControlServer> {
  const server: Server = createServer((request, response) => {
    const send = (code: number, body: unknown) => response.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    const match = /^\/scenarios\/([a-z]+)$/.exec(request.url ?? '');
    if (request.method === 'GET' && request.url === '/status') return send(200, status());
    if (request.method !== 'POST' || !match) return send(404, { error: 'POST /scenarios/<name> or GET /status' });
    const name = match[1] as ScenarioName;
    if (!SCENARIO_NAMES.includes(name)) return send(400, { error: `unknown scenario ${name}; one of ${SCENARIO_NAMES.join(', ')}` });
    trigger(name).then(
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

export async function triggerScenario(port: number, name: string): Promise<ScenarioOutcome> {
  let response: Response;
  try {
    response = await fetch(`http://127.0.0.1:${port}/scenarios/${encodeURIComponent(name)}`, { method: 'POST' });
  } catch {
    throw new Error(`no demo fleet answers on port ${port}: start the platform with npm start (DEMO_FLEET=on) first`);
  }
  const body = (await response.json()) as ScenarioOutcome & { error?: string };
  if (!response.ok) throw new Error(body.error ?? `the fleet answered ${response.status}`);
  return body;
}
