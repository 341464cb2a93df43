/** The signed-in session, kept for the tab's life so that a reload does not log the operator out. */
import type { LoginAnswer, User } from '../api/types.js';

const KEY = 'city.session';

export interface Session {
  token: string;
  expiresAt: number;
  user: User;
}

export function loadSession(now = Date.now()): Session | undefined {
  try {
    const session = JSON.parse(globalThis.sessionStorage?.getItem(KEY) ?? 'null') as Session | null;
    return session && session.expiresAt > now ? session : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(answer: LoginAnswer): Session {
  const session: Session = { token: answer.token, expiresAt: answer.expiresAt, user: answer.user };
  globalThis.sessionStorage?.setItem(KEY, JSON.stringify(session));
  return session;
}

export function clearSession(): void {
  globalThis.sessionStorage?.removeItem(KEY);
}
