import type { Logger } from './logger.js';

/**
 * Stops a service cleanly on SIGINT or SIGTERM, once: Ctrl-C reaches a service twice (from the terminal
 * and from the launcher), and the second signal must not cut a flush short.
 */
export function onShutdown(logger: Logger, close: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'stopping');
      close().then(
        () => process.exit(0),
        (error: Error) => {
          logger.error({ err: error.message }, 'stopped with an error');
          process.exit(1);
        },
      );
    });
  }
}
