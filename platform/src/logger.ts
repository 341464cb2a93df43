import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Structured JSON logs on stdout, one logger per service, with secrets redacted wherever they appear. */
export function createLogger(service: string, level = process.env.LOG_LEVEL ?? 'info', options: LoggerOptions = {}): Logger {
  return pino({
    name: service,
    level,
    redact: { paths: ['password', 'secret', '*.password', '*.secret', 'token', '*.token'], censor: '[redacted]' },
    ...options,
  });
}
