/**
 * One error shape for every answer that is not a success — `{statusCode, error, code, message}` —
 * whether it comes from a schema (400 naming the field), a role check or a handler.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance } from 'fastify';
import { InfluxQueryError } from '@city/platform';

export const ErrorResponse = Type.Object(
  {
    statusCode: Type.Integer(),
    error: Type.String({ description: 'The HTTP status text' }),
    code: Type.String({ description: 'A stable, machine-readable reason, e.g. invalid_input, not_found' }),
    message: Type.String({ description: 'What went wrong and, where it helps, how to fix the request' }),
  },
  { $id: 'ErrorResponse' },
);

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (code: string, message: string) => new ApiError(400, code, message);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (code: string, message: string) => new ApiError(409, code, message);

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** `spaIndex`: the console's page, answered for a browser's GET of a path that is not the api's. */
export function installErrorHandler(app: FastifyInstance, options: { spaIndex?: boolean } = {}): void {
  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    let statusCode = error.statusCode ?? 500;
    let code: string;
    let message = error.message;
    if (error instanceof ApiError) {
      code = error.code;
    } else if (error instanceof InfluxQueryError && error.unavailable) {
      statusCode = 503;
      code = 'influxdb_unavailable';
      message = 'the history database does not answer; live state and incidents still work — try again shortly';
      request.log.warn({ err: error.message }, 'InfluxDB unavailable');
    } else if ((error as FastifyError).validation) {
      statusCode = 400;
      code = 'invalid_input';
      message = `invalid ${(error as FastifyError).validationContext ?? 'input'}: ${message}`;
    } else if (statusCode >= 500) {
      request.log.error({ err: error }, 'request failed');
      code = 'internal_error';
      message = 'the server failed to answer; the error is logged';
    } else {
      code = ((error as FastifyError).code ?? 'error').replace(/^FST_ERR_/, '').toLowerCase();
    }
    return reply.code(statusCode).send({ statusCode, error: STATUS_TEXT[statusCode] ?? 'Error', code, message });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    if (options.spaIndex && request.method === 'GET' && !path.startsWith('/api/') && request.headers.accept?.includes('text/html')) {
      return reply.sendFile('index.html');
    }
    return reply.code(404).send({ statusCode: 404, error: 'Not Found', code: 'not_found', message: `no route ${request.method} ${path}` });
  });
}
