/** Who changed what and when: every incident action, user change and device provisioning. */
import type { Db } from './database.js';

export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
`;

export interface AuditEntry {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  detail: unknown;
}

export class AuditLog {
  private readonly insert;

  constructor(private readonly db: Db) {
    this.insert = db.prepare('INSERT INTO audit (at, actor, action, target, detail) VALUES (?, ?, ?, ?, ?)');
  }

  /** `action` is `<thing>.<verb>` (incident.acknowledge, user.create, device.add); `target` names the thing. */
  record(actor: string, action: string, target: string, detail?: unknown): void {
    this.insert.run(Date.now(), actor, action, target, detail === undefined ? null : JSON.stringify(detail));
  }

  list(filter: { from?: number | undefined; to?: number | undefined; actor?: string | undefined; limit?: number | undefined } = {}): AuditEntry[] {
    const conditions: [string, string | number | undefined][] = [
      ['at >= ?', filter.from],
      ['at < ?', filter.to],
      ['actor = ?', filter.actor],
    ];
    const given = conditions.filter((condition): condition is [string, string | number] => condition[1] !== undefined);
    const clauses = given.map(([clause]) => clause);
    const params = given.map(([, value]) => value);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '';
    const rows = this.db
      .prepare<(string | number)[], { id: number; at: number; actor: string; action: string; target: string; detail: string | null }>(
        `SELECT * FROM audit ${where} ORDER BY id DESC LIMIT ${Math.min(filter.limit ?? 500, 5000)}`,
      )
      .all(...params);
    return rows.map((row) => ({ ...row, detail: row.detail === null ? null : (JSON.parse(row.detail) as unknown) }));
  }
}
