/**
 * One error shape for every answer that is not a success — `{statusCode, error, code, message}` —
 * whether it comes from a schema (400 naming the field), a role check or a handler.
 */
import { Type } from '@sinclair/typebox';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifySchemaValidationError } from 'fastify';
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
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Entity',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
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
      const { validation = [], validationContext = 'input' } = error as FastifyError;
      message = `invalid ${validationContext}: ${validationMessage(validationContext, validation) || message}`;
    } else if ((error as FastifyError).code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (error as FastifyError).code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
      code = 'invalid_json';
    } else if ((error as FastifyError).code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      code = 'body_too_large';
      message = `the request body is over this route's limit of ${request.routeOptions.bodyLimit ?? 'unknown'} bytes`;
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

const CLIENT_ERRORS: Record<string, { statusCode: number; code: string; message: string }> = {
  HPE_HEADER_OVERFLOW: { statusCode: 431, code: 'headers_too_large', message: 'the request line and headers are over 16 KiB' },
  ERR_HTTP_REQUEST_TIMEOUT: { statusCode: 408, code: 'request_timeout', message: 'the request did not arrive in time' },
};

/**
 * Requests that never reach a route (headers over Node's limit, a client too slow to send its request,
 * bytes that are not HTTP), answered in the same shape before the connection is closed.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const known = CLIENT_ERRORS[error.code ?? ''] ?? { statusCode: 400, code: 'bad_request', message: 'the request is not valid HTTP' };
  const body = JSON.stringify({ statusCode: known.statusCode, error: STATUS_TEXT[known.statusCode], code: known.code, message: known.message });
  socket.end(`HTTP/1.1 ${known.statusCode} ${STATUS_TEXT[known.statusCode]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * One clause per field. A union of literals fails once per literal ("must be equal to constant", n times,
 * then "must match a schema in anyOf"), which tells the caller nothing: say instead which values it takes.
 */
export function validationMessage(context: string, errors: readonly FastifySchemaValidationError[]): string {
  const fields = new Map<string, { allowed: unknown[]; problems: string[] }>();
  for (const error of errors) {
    const field = error.instancePath.replace(/^\//, '') || context;
    let entry = fields.get(field);
    if (!entry) fields.set(field, (entry = { allowed: [], problems: [] }));
    const params = error.params as { allowedValue?: unknown; allowedValues?: unknown[] };
    if (error.keyword === 'const') entry.allowed.push(params.allowedValue);
    else if (error.keyword === 'enum') entry.allowed.push(...(params.allowedValues ?? []));
    else if (!(error.keyword === 'anyOf' && entry.allowed.length > 0)) entry.problems.push(`${field === context ? context : `${context}/${field}`} ${error.message ?? 'is invalid'}`);
  }
  return [...fields]
    .map(([field, { allowed, problems }]) => (allowed.length > 0 ? `${field} must be one of ${[...new Set(allowed)].join(', ')}` : problems.join(', ')))
    .join('; ');
}
