import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@city/platform/testing';
import { AUDIT_SCHEMA, AuditLog } from '../../src/audit.js';
import { openDatabase, type Db } from '../../src/database.js';
import { installErrorHandler } from '../../src/errors.js';
import { INCIDENTS_SCHEMA, IncidentStore } from '../../src/incidents/incident-store.js';
import type { Incident } from '../../src/incidents/model.js';
import { incidentRoutes } from '../../src/incidents/routes.js';

const T0 = Date.parse('2025-10-20T02:00:00Z');
let dir: ReturnType<typeof tempDir>;
let db: Db;
let store: IncidentStore;
let audit: AuditLog;
let app: FastifyInstance;
let clock: number;
let routes: { method: string; url: string; access: unknown }[];

const TREE = {
  type: 'fallen_tree',
  category: 'weather',
  severity: 'medium',
  description: 'Cây đổ chắn đường Bạch Đằng',
  lon: 108.2245,
  lat: 16.0712,
  subCategory: 'hazardOnRoad',
};

/** Calls the api as an operator (the real auth plugin is tested elsewhere; here the caller is whoever x-user says). */
function call(method: 'GET' | 'POST', url: string, payload?: unknown, user: string | null = 'operator-lan') {
  return app.inject({ method, url, payload: payload as Record<string, unknown> | undefined, headers: user ? { 'x-user': user } : {} });
}

beforeEach(async () => {
  dir = tempDir('city-incident-routes-');
  db = openDatabase(join(dir.path, 'api.db'), [INCIDENTS_SCHEMA, AUDIT_SCHEMA]);
  clock = T0;
  store = new IncidentStore(db, { now: () => clock });
  audit = new AuditLog(db);
  app = Fastify();
  app.decorateRequest('user', null);
  app.addHook('onRequest', async (request) => {
    const username = request.headers['x-user'];
    request.user = typeof username === 'string' ? { username, role: 'operator' } : null;
  });
  installErrorHandler(app);
  routes = [];
  app.addHook('onRoute', (route) => void routes.push({ method: String(route.method), url: route.url, access: route.config?.access }));
  await app.register(incidentRoutes({ store, audit, zoneAt: (lon) => (lon > 108.2 ? 'hai-chau' : 'lien-chieu') }));
  await app.ready();
});

afterEach(async () => {
  await app.close();
  db.close();
  dir.cleanup();
});

describe('incident routes', () => {
  it('every route declares who may call it: viewers read, operators act', () => {
    const declared = routes.filter((route) => route.method !== 'HEAD').map(({ method, url, access }) => `${method} ${url} ${String(access)}`);
    expect(declared.sort()).toEqual([
      'GET /api/v1/incidents viewer',
      'GET /api/v1/incidents/:id viewer',
      'POST /api/v1/incidents operator',
      'POST /api/v1/incidents/:id/acknowledge operator',
      'POST /api/v1/incidents/:id/assign operator',
      'POST /api/v1/incidents/:id/notes operator',
      'POST /api/v1/incidents/:id/resolve operator',
    ]);
  });

  it('an operator reports an incident, acknowledges, annotates, assigns and resolves it; the history and the audit log follow', async () => {
    const created = await call('POST', '/api/v1/incidents', TREE);
    expect(created.statusCode).toBe(201);
    const incident = created.json<Incident>();
    expect(incident).toMatchObject({ ...TREE, status: 'open', source: 'manual', zone: 'hai-chau', subject: { type: 'location' }, openedAt: T0 });
    const { id } = incident;

    clock = T0 + 60_000;
    expect((await call('POST', `/api/v1/incidents/${id}/acknowledge`, { note: 'đội cây xanh đang đến' })).json()).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'operator-lan' });
    clock = T0 + 120_000;
    expect((await call('POST', `/api/v1/incidents/${id}/notes`, { note: 'one lane open' }, 'operator-minh')).statusCode).toBe(200);
    expect((await call('POST', `/api/v1/incidents/${id}/assign`, { assignee: 'cay-xanh-team-3' })).json()).toMatchObject({ assignee: 'cay-xanh-team-3' });
    clock = T0 + 1_800_000;
    const resolved = await call('POST', `/api/v1/incidents/${id}/resolve`, { note: 'tree removed' }, 'operator-minh');
    expect(resolved.json()).toMatchObject({ status: 'resolved', resolution: 'resolved', resolvedBy: 'operator-minh', resolvedAt: T0 + 1_800_000 });

    const fetched = await call('GET', `/api/v1/incidents/${id}`, undefined, 'viewer-an');
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json<Incident>().history.map(({ action, actor, note }) => [action, actor, note])).toEqual([
      ['open', 'operator-lan', undefined],
      ['acknowledge', 'operator-lan', 'đội cây xanh đang đến'],
      ['note', 'operator-minh', 'one lane open'],
      ['assign', 'operator-lan', 'assigned to cay-xanh-team-3'],
      ['resolve', 'operator-minh', 'tree removed'],
    ]);
    expect(
      audit
        .list()
        .reverse()
        .map(({ actor, action, target, detail }) => [actor, action, target, detail]),
    ).toEqual([
      ['operator-lan', 'incident.create', id, { type: 'fallen_tree', category: 'weather', severity: 'medium' }],
      ['operator-lan', 'incident.acknowledge', id, { note: 'đội cây xanh đang đến' }],
      ['operator-minh', 'incident.note', id, { note: 'one lane open' }],
      ['operator-lan', 'incident.assign', id, { assignee: 'cay-xanh-team-3' }],
      ['operator-minh', 'incident.resolve', id, { note: 'tree removed' }],
    ]);
  });

  it('a manual report is never merged into another, however alike', async () => {
    const first = (await call('POST', '/api/v1/incidents', TREE)).json<Incident>();
    const second = (await call('POST', '/api/v1/incidents', TREE)).json<Incident>();
    expect(second.id).not.toBe(first.id);
    expect((await call('GET', '/api/v1/incidents')).json<Incident[]>()).toHaveLength(2);
  });

  it('acknowledge and resolve need no body', async () => {
    const { id } = (await call('POST', '/api/v1/incidents', TREE)).json<Incident>();
    expect((await call('POST', `/api/v1/incidents/${id}/acknowledge`)).json()).toMatchObject({ status: 'acknowledged' });
    expect((await call('POST', `/api/v1/incidents/${id}/resolve`)).json()).toMatchObject({ status: 'resolved' });
  });

  it('answers 409 invalid_transition to an action the incident’s status does not allow, and changes nothing', async () => {
    const { id } = (await call('POST', '/api/v1/incidents', TREE)).json<Incident>();
    await call('POST', `/api/v1/incidents/${id}/resolve`, { note: 'duplicate report' });
    for (const action of ['acknowledge', 'resolve']) {
      const refused = await call('POST', `/api/v1/incidents/${id}/${action}`, {});
      expect(refused.statusCode).toBe(409);
      expect(refused.json()).toEqual({ statusCode: 409, error: 'Conflict', code: 'invalid_transition', message: expect.stringContaining('resolved') });
    }
    expect((await call('POST', `/api/v1/incidents/${id}/assign`, { assignee: 'someone' })).statusCode).toBe(409);
    expect(store.get(id)?.history.map((entry) => entry.action)).toEqual(['open', 'resolve']);
    expect(audit.list().map((entry) => entry.action)).toEqual(['incident.resolve', 'incident.create']);
  });

  it('answers 404 for an incident that does not exist', async () => {
    for (const [method, url] of [
      ['GET', '/api/v1/incidents/inc-missing'],
      ['POST', '/api/v1/incidents/inc-missing/acknowledge'],
    ] as const) {
      const missing = await call(method, url, method === 'POST' ? {} : undefined);
      expect(missing.statusCode).toBe(404);
      expect(missing.json()).toMatchObject({ code: 'not_found', message: 'no incident inc-missing' });
    }
  });

  it.each([
    ['an unknown severity', 'POST', '/api/v1/incidents', { ...TREE, severity: 'urgent' }, 'severity'],
    ['an unknown category', 'POST', '/api/v1/incidents', { ...TREE, category: 'flooding' }, 'category'],
    ['a category FIWARE does not have', 'POST', '/api/v1/incidents', { ...TREE, category: 'other' }, 'category'],
    ['a longitude out of range', 'POST', '/api/v1/incidents', { ...TREE, lon: 200 }, 'lon'],
    ['a missing description', 'POST', '/api/v1/incidents', { ...TREE, description: undefined }, 'description'],
    ['a blank note', 'POST', '/api/v1/incidents/inc-x/notes', { note: '   ' }, 'note'],
    ['no assignee', 'POST', '/api/v1/incidents/inc-x/assign', {}, 'assignee'],
    ['an unknown status filter', 'GET', '/api/v1/incidents?status=open,closed', undefined, 'status'],
    ['a limit out of range', 'GET', '/api/v1/incidents?limit=0', undefined, 'limit'],
    ['a time without a zone', 'GET', '/api/v1/incidents?from=2025-10-20T09:00:00', undefined, 'from'],
    ['a range that ends before it starts', 'GET', `/api/v1/incidents?from=${T0}&to=${T0 - 1}`, undefined, 'from'],
  ] as const)('answers 400 naming the field for %s', async (_, method, url, payload, field) => {
    const refused = await call(method, url, payload);
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({ statusCode: 400, error: 'Bad Request', code: 'invalid_input' });
    expect(refused.json<{ message: string }>().message).toContain(field);
  });

  it('lists by status, type, zone, category, severity and time, newest first', async () => {
    const minutes = (n: number) => T0 + n * 60_000;
    const rule = (n: number, type: string, subject: string, extra: Partial<Incident> = {}) =>
      store.open(
        { type, category: 'traffic', severity: 'medium', source: 'rule', subject: { type: 'segment', id: subject }, zone: 'hai-chau', lon: 108.22, lat: 16.06, description: type, ...extra },
        { actor: 'system', at: minutes(n) },
      ).incident;
    const jam = rule(0, 'congestion', 'cau-rong');
    const crash = rule(10, 'accident', 'cau-song-han', { severity: 'high', subCategory: 'carAccident' });
    const smog = rule(20, 'air_pollution', 'dn-air-1', { category: 'environment', zone: 'lien-chieu', severity: 'critical' });
    store.clear(jam.id, { at: minutes(5) });
    store.acknowledge(crash.id, { actor: 'operator-lan', at: minutes(12) });
    const ids = async (query: string) => (await call('GET', `/api/v1/incidents${query}`, undefined, 'viewer-an')).json<Incident[]>().map((incident) => incident.id);

    expect(await ids('')).toEqual([smog.id, crash.id, jam.id]);
    expect(await ids('?status=open,acknowledged')).toEqual([smog.id, crash.id]);
    expect(await ids('?status=resolved')).toEqual([jam.id]);
    expect(await ids('?type=accident')).toEqual([crash.id]);
    expect(await ids('?zone=lien-chieu')).toEqual([smog.id]);
    expect(await ids('?category=traffic')).toEqual([crash.id, jam.id]);
    expect(await ids('?severity=high,critical')).toEqual([smog.id, crash.id]);
    expect(await ids(`?from=${minutes(6)}&to=${minutes(15)}`)).toEqual([crash.id]);
    expect(await ids('?from=2025-10-20T09:02:00%2B07:00&to=2025-10-20T02:15:00Z')).toEqual([crash.id, jam.id]);
    expect(await ids('?limit=1')).toEqual([smog.id]);
  });
});
