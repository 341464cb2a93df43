/**
 * Bearer tokens: random, stored only as a SHA-256 hash, with an idle and an absolute expiry, so that
 * a token can be revoked (logout, a disabled user, a changed role takes effect at once) and survives
 * an api restart.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../database.js';
import type { AuthUser, Role } from './roles.js';

export const SESSIONS_SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  token_hash TEXT PRIMARY KEY,
  username TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_username ON sessions (username);
`;

export interface SessionPolicy {
  /** A token unused for this long stops working (an unattended console). */
  idleMs: number;
  /** And every token stops after this long, used or not (one shift and a half). */
  maxAgeMs: number;
}

/** Writing last-use on every request would make each request a disk write; once a minute is enough. */
const TOUCH_EVERY_MS = 60_000;

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export class SessionStore {
  private readonly statements;
  private readonly endListeners = new Set<() => void>();

  constructor(
    db: Db,
    private readonly policy: SessionPolicy,
  ) {
    this.statements = {
      insert: db.prepare('INSERT INTO sessions (token_hash, username, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      find: db.prepare<[string], { username: string; role: Role; disabled: number; last_used_at: number; expires_at: number }>(
        'SELECT s.username, u.role, u.disabled, s.last_used_at, s.expires_at FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = ?',
      ),
      touch: db.prepare('UPDATE sessions SET last_used_at = ? WHERE token_hash = ?'),
      revoke: db.prepare('DELETE FROM sessions WHERE token_hash = ?'),
      revokeUser: db.prepare('DELETE FROM sessions WHERE username = ?'),
      expire: db.prepare('DELETE FROM sessions WHERE expires_at < ? OR last_used_at < ?'),
    };
  }

  issue(username: string, now = Date.now()): { token: string; expiresAt: number } {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + this.policy.maxAgeMs;
    this.statements.expire.run(now, now - this.policy.idleMs);
    this.statements.insert.run(hashToken(token), username, now, now, expiresAt);
    return { token, expiresAt };
  }

  resolve(token: string, now = Date.now()): AuthUser | undefined {
    const hash = hashToken(token);
    const row = this.statements.find.get(hash);
    if (!row || row.disabled || row.expires_at <= now || row.last_used_at + this.policy.idleMs <= now) return undefined;
    if (now - row.last_used_at > TOUCH_EVERY_MS) this.statements.touch.run(now, hash);
    return { username: row.username, role: row.role };
  }

  revoke(token: string): void {
    this.statements.revoke.run(hashToken(token));
    this.ended();
  }

  revokeUser(username: string): void {
    this.statements.revokeUser.run(username);
    this.ended();
  }

  /** Called whenever sessions are revoked, so that what a token opened (a WebSocket) can be closed with it. */
  onEnd(listener: () => void): () => void {
    this.endListeners.add(listener);
    return () => this.endListeners.delete(listener);
  }

  private ended(): void {
    for (const listener of this.endListeners) listener();
  }
}
