/**
 * A stream stays open only as long as the session that opened it: logout, a disabled or deleted user and
 * a changed role or password close it at once; expiry closes it at the next check. An open stream is a
 * console in use, so each check also counts as use of its session.
 */
import type { WebSocket } from 'ws';
import type { SessionStore } from '../auth/sessions.js';

/** Application close code: 4000 + the HTTP status a fresh upgrade would now get. */
export const SESSION_ENDED = 4401;

export class StreamSessionGuard {
  private readonly sockets = new Map<WebSocket, string>();
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly sessions: SessionStore,
    checkEveryMs: number,
  ) {
    this.unsubscribe = sessions.onEnd(() => this.check());
    this.timer = setInterval(() => this.check(), checkEveryMs);
    this.timer.unref();
  }

  watch(socket: WebSocket, token: string): void {
    this.sockets.set(socket, token);
    socket.once('close', () => this.sockets.delete(socket));
  }

  check(): void {
    for (const [socket, token] of this.sockets) {
      if (this.sessions.resolve(token)) continue;
      this.sockets.delete(socket);
      socket.close(SESSION_ENDED, 'session ended; log in again');
    }
  }

  close(): void {
    clearInterval(this.timer);
    this.unsubscribe();
    this.sockets.clear();
  }
}
