/**
 * The api over HTTP: one place that adds the token, turns error answers into `ApiError`, and hears a
 * 401 (an expired or revoked session) so that the console can go back to the login page.
 */
import { takeEarly } from './early-requests.js';
import type { DeviceDetails, Health, HistoryAnswer, Incident, LayerName, FeatureCollection, LoginAnswer, Severity, User } from './types.js';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface NewIncident {
  type: string;
  category: string;
  severity: Severity;
  description: string;
  lon: number;
  lat: number;
}

export type HistoryParams = Record<string, string | number | undefined>;

export class ApiClient {
  private token: string | undefined;

  constructor(
    private readonly base = '',
    private readonly onUnauthorized: () => void = () => undefined,
  ) {}

  setToken(token: string | undefined): void {
    this.token = token;
  }

  get accessToken(): string | undefined {
    return this.token;
  }

  async login(username: string, password: string): Promise<LoginAnswer> {
    return this.request<LoginAnswer>('POST', '/api/v1/auth/login', { username, password }, { silent401: true });
  }

  me(): Promise<User> {
    return this.request('GET', '/api/v1/auth/me');
  }

  async logout(): Promise<void> {
    await this.request('POST', '/api/v1/auth/logout', undefined, { silent401: true }).catch(() => undefined);
  }

  layer(name: LayerName): Promise<FeatureCollection> {
    return this.request('GET', layerPath(name));
  }

  device(id: string): Promise<DeviceDetails> {
    return this.request('GET', `/api/v1/devices/${encodeURIComponent(id)}`);
  }

  health(): Promise<Health> {
    // 503 carries the same body, naming what is down.
    return this.request('GET', '/api/v1/health', undefined, { acceptStatus: [503] });
  }

  history(params: HistoryParams): Promise<HistoryAnswer> {
    return this.request('GET', `/api/v1/history?${query(params)}`);
  }

  async historyCsv(params: HistoryParams): Promise<Blob> {
    const response = await this.send('GET', `/api/v1/history?${query({ ...params, format: 'csv' })}`, undefined);
    return response.blob();
  }

  reportIncident(incident: NewIncident): Promise<Incident> {
    return this.request('POST', '/api/v1/incidents', incident);
  }

  acknowledge(id: string, note: string): Promise<Incident> {
    return this.request('POST', `/api/v1/incidents/${encodeURIComponent(id)}/acknowledge`, note ? { note } : {});
  }

  resolve(id: string, note: string): Promise<Incident> {
    return this.request('POST', `/api/v1/incidents/${encodeURIComponent(id)}/resolve`, note ? { note } : {});
  }

  streamUrl(): string {
    const origin = this.base || window.location.origin;
    return `${origin.replace(/^http/, 'ws')}/api/v1/stream?access_token=${encodeURIComponent(this.token ?? '')}`;
  }

  private async request<T>(method: string, path: string, body?: unknown, options: { silent401?: boolean; acceptStatus?: number[] } = {}): Promise<T> {
    const response = await this.send(method, path, body, options);
    if (response.status === 204) return undefined as T;
    return (await response.json()) as T;
  }

  private async send(method: string, path: string, body: unknown, options: { silent401?: boolean; acceptStatus?: number[] } = {}): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      const url = `${this.base}${path}`;
      const early = method === 'GET' ? takeEarly(url, this.token) : undefined;
      response = await (early ?? fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }));
    } catch (error) {
      throw new ApiError(0, 'network', (error as Error).message);
    }
    if (response.ok || options.acceptStatus?.includes(response.status)) return response;
    const detail = (await response.json().catch(() => ({}))) as { code?: string; message?: string };
    if (response.status === 401 && !options.silent401) this.onUnauthorized();
    throw new ApiError(response.status, detail.code ?? 'http_error', detail.message ?? response.statusText);
  }
}

export function layerPath(name: LayerName): string {
  return `/api/v1/layers/${name}`;
}

function query(params: HistoryParams): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) search.set(key, String(value));
  return search.toString();
}
