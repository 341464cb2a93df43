/**
 * `/api/v1/incidents`: what operators see and do. Viewers read; operators report, acknowledge, assign,
 * annotate and resolve. Every action lands in the incident's history and in the audit log.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import type { AuditLog } from '../audit.js';
import '../auth/roles.js';
import { ApiError, ErrorResponse, badRequest, notFound } from '../errors.js';
import type { IncidentStore } from './incident-store.js';
import { CATEGORIES, FIWARE_CATEGORIES, INCIDENT_TYPE_PATTERN, IncidentSchema, SEVERITIES, STATUSES, type Severity, type Status } from './model.js';

export interface IncidentRouteDeps {
  store: IncidentStore;
  audit: AuditLog;
  /** The zone a manual report falls in. */
  zoneAt?(lon: number, lat: number): string | undefined;
}

/** Input enums as JSON Schema `enum`, whose validation message is one line rather than one per literal. */
const oneOf = <const T extends readonly string[]>(values: T, description: string) => Type.Unsafe<T[number]>({ type: 'string', enum: [...values], description });
const Category = oneOf(CATEGORIES, `FIWARE Alert category: ${CATEGORIES.join(', ')}`);
const commaList = (values: readonly string[]) => `^(${values.join('|')})(,(${values.join('|')}))*$`;
const Time = Type.String({ description: 'epoch milliseconds, or ISO-8601 with a zone (2025-06-01T07:30:00+07:00)' });
const Note = Type.String({ minLength: 1, maxLength: 2000, pattern: '\\S' });
const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const Errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const OptionalNote = Type.Object({ note: Type.Optional(Note) }, { additionalProperties: false });
/** Acknowledge and resolve may be posted without a body; it then validates as `{}`. */
const noBodyIsEmpty = async (request: FastifyRequest) => {
  request.body ??= {};
};

const ListQuery = Type.Object({
  status: Type.Optional(Type.String({ pattern: commaList(STATUSES), description: 'open, acknowledged or resolved; several comma-separated' })),
  type: Type.Optional(Type.String({ pattern: INCIDENT_TYPE_PATTERN })),
  zone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  category: Type.Optional(Category),
  severity: Type.Optional(Type.String({ pattern: commaList(SEVERITIES), description: 'informational, low, medium, high or critical; several comma-separated' })),
  from: Type.Optional(Time),
  to: Type.Optional(Time),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
});

const CreateBody = Type.Object(
  {
    type: Type.String({ pattern: INCIDENT_TYPE_PATTERN, description: 'e.g. accident, flood_warning, fallen_tree' }),
    // New reports take FIWARE's categories only; `other` survives for reading older incidents.
    category: oneOf(FIWARE_CATEGORIES, `FIWARE Alert category: ${FIWARE_CATEGORIES.join(', ')}`),
    severity: oneOf(SEVERITIES, SEVERITIES.join(', ')),
    description: Note,
    lon: Type.Number({ minimum: -180, maximum: 180 }),
    lat: Type.Number({ minimum: -90, maximum: 90 }),
    subCategory: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'FIWARE Alert subCategory, e.g. carAccident' })),
    assignee: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

export function incidentRoutes(deps: IncidentRouteDeps): FastifyPluginAsyncTypebox {
  const { store, audit } = deps;
  return async (app) => {
    app.get(
      '/api/v1/incidents',
      {
        config: { access: 'viewer' },
        schema: {
          tags: ['incidents'],
          summary: 'Incidents, newest first, by status, type, zone, category, severity and the time they were open',
          description: 'from/to select incidents open at some time in [from, to): opened before `to` and not resolved before `from`.',
          querystring: ListQuery,
          response: { 200: Type.Array(IncidentSchema), 400: ErrorResponse },
        },
      },
      async (request) => {
        const { status, severity, from, to, ...rest } = request.query;
        const range = { from: from === undefined ? undefined : parseTime(from, 'from'), to: to === undefined ? undefined : parseTime(to, 'to') };
        if (range.from !== undefined && range.to !== undefined && range.from >= range.to) {
          throw badRequest('invalid_input', 'querystring/from must be before querystring/to');
        }
        return store.list({
          ...rest,
          ...range,
          status: status?.split(',') as Status[] | undefined,
          severity: severity?.split(',') as Severity[] | undefined,
        });
      },
    );

    app.get(
      '/api/v1/incidents/:id',
      {
        config: { access: 'viewer' },
        schema: { tags: ['incidents'], summary: 'One incident with its full history', params: Params, response: { 200: IncidentSchema, ...Errors } },
      },
      async (request) => {
        const incident = store.get(request.params.id);
        if (!incident) throw notFound(`no incident ${request.params.id}`);
        return incident;
      },
    );

    app.post(
      '/api/v1/incidents',
      {
        config: { access: 'operator' },
        schema: {
          tags: ['incidents'],
          summary: 'Report an incident by hand; it is always an incident of its own, never merged into another',
          body: CreateBody,
          response: { 201: IncidentSchema, 400: ErrorResponse },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const body = request.body;
        const { incident } = store.open(
          {
            ...body,
            description: body.description.trim(),
            source: 'manual',
            subject: { type: 'location', id: `${body.lon},${body.lat}` },
            zone: deps.zoneAt?.(body.lon, body.lat),
          },
          { actor },
        );
        audit.record(actor, 'incident.create', incident.id, { type: incident.type, category: incident.category, severity: incident.severity });
        return reply.code(201).send(incident);
      },
    );

    // Acknowledge and resolve differ only in the step they take: each may carry a note, or no body at all.
    const steps = [
      { step: 'acknowledge', summary: 'Acknowledge an open incident: someone is on it', take: store.acknowledge.bind(store) },
      {
        step: 'resolve',
        summary: 'Resolve an open or acknowledged incident',
        description: 'A rule incident resolved while its condition persists is not opened again until the condition has cleared (or grown worse).',
        take: store.resolve.bind(store),
      },
    ] as const;
    for (const { step, summary, take, ...rest } of steps) {
      app.post(
        `/api/v1/incidents/:id/${step}`,
        {
          config: { access: 'operator' },
          preValidation: noBodyIsEmpty,
          schema: { tags: ['incidents'], summary, ...rest, params: Params, body: OptionalNote, response: { 200: IncidentSchema, ...Errors } },
        },
        async (request) => {
          const actor = actorOf(request);
          const note = request.body.note;
          const incident = take(request.params.id, { actor, note });
          audit.record(actor, `incident.${step}`, incident.id, { note });
          return incident;
        },
      );
    }

    app.post(
      '/api/v1/incidents/:id/assign',
      {
        config: { access: 'operator' },
        schema: {
          tags: ['incidents'],
          summary: 'Assign an open or acknowledged incident to someone (a username or a team)',
          params: Params,
          body: Type.Object({ assignee: Type.String({ minLength: 1, maxLength: 64, pattern: '\\S' }) }, { additionalProperties: false }),
          response: { 200: IncidentSchema, ...Errors },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const assignee = request.body.assignee.trim();
        const incident = store.assign(request.params.id, assignee, { actor });
        audit.record(actor, 'incident.assign', incident.id, { assignee });
        return incident;
      },
    );

    app.post(
      '/api/v1/incidents/:id/notes',
      {
        config: { access: 'operator' },
        schema: {
          tags: ['incidents'],
          summary: 'Add a note to an incident, resolved ones included',
          params: Params,
          body: Type.Object({ note: Note }, { additionalProperties: false }),
          response: { 200: IncidentSchema, ...Errors },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const note = request.body.note;
        const incident = store.addNote(request.params.id, { actor, note });
        audit.record(actor, 'incident.note', incident.id, { note });
        return incident;
      },
    );
  };
}

function actorOf(request: FastifyRequest): string {
  // The auth plugin sets the user on every non-public route; without one the route was wired without it.
  if (!request.user) throw new ApiError(401, 'unauthenticated', 'sign in to act on incidents');
  return request.user.username;
}

function parseTime(value: string, field: 'from' | 'to'): number {
  const at = /^\d{1,15}$/.test(value) ? Number(value) : /(Z|[+-]\d{2}:?\d{2})$/i.test(value) ? Date.parse(value) : Number.NaN;
  if (!Number.isFinite(at)) {
    throw badRequest('invalid_input', `querystring/${field} must be epoch milliseconds or ISO-8601 with a zone, e.g. 2025-06-01T07:30:00+07:00`);
  }
  return at;
}
