/**
 * Requests the console will make as soon as it starts, sent while the page's own script is still loading.
 * The bundle (maplibre, React, the panels) takes a while to arrive and run, and the layers take the api a
 * while to answer with a city's worth of devices; sent first, both waits overlap instead of adding up.
 * Each early answer is handed over once, to the first request for the same path with the same token.
 */

const early = new Map<string, Promise<Response>>();
/** Paths the console already asked for itself: an early request for one of them now would be a second copy. */
const asked = new Set<string>();

const key = (path: string, token: string | undefined) => `${token ?? ''} ${path}`;

export function requestEarly(path: string, token: string | undefined, init: RequestInit = {}): void {
  if (asked.has(key(path, token))) return;
  const headers = new Headers(init.headers);
  if (token) headers.set('authorization', `Bearer ${token}`);
  const response = fetch(path, { ...init, headers });
  // Unclaimed, a failed request must not surface as an unhandled rejection; a claimed one rejects for its caller.
  response.catch(() => undefined);
  early.set(key(path, token), response);
}

/** The early answer for this GET, if one was sent and not yet taken. */
export function takeEarly(path: string, token: string | undefined): Promise<Response> | undefined {
  const id = key(path, token);
  const response = early.get(id);
  early.delete(id);
  asked.add(id);
  return response;
}
