import { createServer } from 'node:http';
import { expect, it } from 'vitest';
import { createLogger } from '@city/platform';
import { cutConnectionsAfterGrace } from '../src/close-grace.js';

it('cuts a request still open once the grace period of a stop is over, so that the server closes', async () => {
  // The handler never answers, like an export to a client that stopped reading.
  const server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const request = fetch(`http://127.0.0.1:${port}/slow`).then(
    () => 'answered',
    () => 'cut',
  );
  await new Promise<void>((resolve) => server.once('request', () => resolve()));

  const started = performance.now();
  cutConnectionsAfterGrace(server, createLogger('test', 'silent'), 200);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  expect(performance.now() - started).toBeGreaterThanOrEqual(150);
  expect(await request).toBe('cut');
});
