/**
 * The api's own embedded database (`$DATA_DIR/api.db`): users, sessions, incidents and the audit log.
 * Each module brings its own tables as idempotent DDL, run once at open.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export function openDatabase(path: string, schemas: readonly string[]): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  for (const schema of schemas) db.exec(schema);
  return db;
}
