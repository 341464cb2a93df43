/**
 * The first admin (username `admin`): its password is ADMIN_PASSWORD, or, when that is unset on the
 * first start, generated and shown once — on the terminal and in `$DATA_DIR/admin-password` (mode 0600,
 * like a router's sticker), never in the logs. No password is built in, so no default ever works.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Logger } from '@city/platform';
import type { AuditLog } from '../audit.js';
import type { UserStore } from './users.js';

export async function ensureFirstAdmin(users: UserStore, audit: AuditLog, options: { password?: string | undefined; passwordFile: string; logger: Logger }): Promise<void> {
  if (users.find('admin')) return;
  const password = options.password ?? randomBytes(12).toString('base64url');
  await users.create({ username: 'admin', role: 'admin', password, displayName: 'Administrator' });
  audit.record('system', 'user.create', 'admin', { role: 'admin', first: true });
  if (options.password) {
    options.logger.info('first admin created with the password from ADMIN_PASSWORD');
    return;
  }
  writeFileSync(options.passwordFile, `${password}\n`, { mode: 0o600 });
  options.logger.warn({ passwordFile: options.passwordFile }, 'first admin created with a generated password (shown once on the terminal and kept in the file named here)');
  process.stderr.write(
    `\n  Operations console admin / Quản trị viên:  username admin  password ${password}\n  (also in ${options.passwordFile}; change it after logging in / hãy đổi mật khẩu sau khi đăng nhập)\n\n`,
  );
}
