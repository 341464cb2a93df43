/**
 * Operators, planners and admins: each with a role and a scrypt-hashed password, in the api's database.
 * No default password exists; the first admin's comes from ADMIN_PASSWORD or is generated once.
 */
import { PASSWORD_SCRYPT_COST, hashSecret, verifySecret } from '@city/devices';
import type { Db } from '../database.js';
import { ApiError, conflict, notFound } from '../errors.js';
import type { AuthUser, Role } from './roles.js';

export const USERS_SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  username TEXT PRIMARY KEY,
  role TEXT NOT NULL,
  display_name TEXT,
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
`;

export const USERNAME_PATTERN = '^[a-z][a-z0-9._-]{1,31}$';
export const MIN_PASSWORD_LENGTH = 10;
const MAX_PASSWORD_LENGTH = 256;

export interface User extends AuthUser {
  displayName: string | null;
  disabled: boolean;
  createdAt: number;
  updatedAt: number;
}

interface UserRow {
  username: string;
  role: Role;
  display_name: string | null;
  password_hash: string;
  disabled: number;
  created_at: number;
  updated_at: number;
}

/** Verifying against this costs what a real check costs, so a wrong username is not answered faster. */
let decoyHash: Promise<string> | undefined;

export function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH || password.length > MAX_PASSWORD_LENGTH) {
    throw new ApiError(400, 'weak_password', `a password has ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`);
  }
}

export class UserStore {
  private readonly get;

  constructor(private readonly db: Db) {
    this.get = db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?');
  }

  async create(input: { username: string; role: Role; password: string; displayName?: string | undefined }): Promise<User> {
    checkPassword(input.password);
    if (this.get.get(input.username)) throw conflict('duplicate', `user ${input.username} already exists`);
    const now = Date.now();
    const hash = await hashSecret(input.password, PASSWORD_SCRYPT_COST);
    this.db
      .prepare('INSERT INTO users (username, role, display_name, password_hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(input.username, input.role, input.displayName ?? null, hash, now, now);
    return this.find(input.username) as User;
  }

  find(username: string): User | undefined {
    const row = this.get.get(username);
    return row ? toUser(row) : undefined;
  }

  list(): User[] {
    return this.db.prepare<[], UserRow>('SELECT * FROM users ORDER BY username').all().map(toUser);
  }

  count(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM users').get() as { n: number }).n;
  }

  async update(username: string, change: { role?: Role | undefined; password?: string | undefined; displayName?: string | undefined; disabled?: boolean | undefined }): Promise<User> {
    const row = this.get.get(username);
    if (!row) throw notFound(`user ${username} does not exist`);
    if (change.password !== undefined) checkPassword(change.password);
    const hash = change.password === undefined ? row.password_hash : await hashSecret(change.password, PASSWORD_SCRYPT_COST);
    this.db
      .prepare('UPDATE users SET role = ?, display_name = ?, password_hash = ?, disabled = ?, updated_at = ? WHERE username = ?')
      .run(
        change.role ?? row.role,
        change.displayName === undefined ? row.display_name : change.displayName,
        hash,
        change.disabled === undefined ? row.disabled : Number(change.disabled),
        Date.now(),
        username,
      );
    return this.find(username) as User;
  }

  remove(username: string): boolean {
    return this.db.prepare('DELETE FROM users WHERE username = ?').run(username).changes > 0;
  }

  /** The user when the password is right and the account enabled; always pays for one scrypt. */
  async verify(username: string, password: string): Promise<AuthUser | undefined> {
    const row = typeof username === 'string' ? this.get.get(username) : undefined;
    if (!row || password.length > MAX_PASSWORD_LENGTH) {
      decoyHash ??= hashSecret('decoy password that nobody has', PASSWORD_SCRYPT_COST);
      await verifySecret(password.slice(0, MAX_PASSWORD_LENGTH), await decoyHash);
      return undefined;
    }
    const ok = await verifySecret(password, row.password_hash);
    if (!ok || row.disabled) return undefined;
    return { username: row.username, role: row.role };
  }
}

function toUser(row: UserRow): User {
  return {
    username: row.username,
    role: row.role,
    displayName: row.display_name,
    disabled: row.disabled === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
