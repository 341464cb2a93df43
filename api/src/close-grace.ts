/**
 * A stop waits for the HTTP requests in progress, but not for ever: a client that stops reading a long answer
 * (a CSV export to a stalled laptop) would otherwise hold the api's shutdown, and a restart by an operator, for as
 * long as it likes.
 */
import type { Server } from 'node:http';
import type { Logger } from '@city/platform';

const CLOSE_GRACE_MS = 5000;

/** Called as the server starts closing: whatever is still connected after the grace period is cut. */
export function cutConnectionsAfterGrace(server: Server, logger: Logger, graceMs = CLOSE_GRACE_MS): void {
  const cut = setTimeout(() => {
    logger.warn({ graceMs }, 'HTTP requests still open when the grace period for stopping ended; closing their connections');
    server.closeAllConnections();
  }, graceMs);
  cut.unref();
  server.once('close', () => clearTimeout(cut));
}
