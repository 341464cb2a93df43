/**
 * Turns MQTT CONNECT credentials into an identity. Devices authenticate against the registry
 * (username = device id, password = its secret); the platform's services use `service:<name>` with
 * the shared service secret from configuration.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import type { DeviceRegistry } from '@city/devices';
import type { Identity } from './acl.js';

export type CredentialCheck =
  | { ok: true; identity: Identity; device?: { id: string; updatedAt: number } }
  | { ok: false; reason: 'bad_credentials' | 'client_id_mismatch' };

const SERVICE_USER = /^service:([a-z][a-z0-9-]{0,31})$/;

export function createCredentialChecker(registry: DeviceRegistry, serviceSecret: string) {
  const serviceDigest = digest(serviceSecret);
  return async function check(clientId: string, username: string | undefined, password: Buffer | undefined): Promise<CredentialCheck> {
    if (!username || !password) return { ok: false, reason: 'bad_credentials' };
    const service = SERVICE_USER.exec(username);
    if (service) {
      if (!timingSafeEqual(digest(password.toString('utf8')), serviceDigest)) return { ok: false, reason: 'bad_credentials' };
      // A service's client id starts with its user name so that no one can take over its persistent session.
      if (!clientId.startsWith(username)) return { ok: false, reason: 'client_id_mismatch' };
      return { ok: true, identity: { type: 'service', name: service[1] as string } };
    }
    const device = await registry.authenticate(username, password.toString('utf8'));
    if (!device) return { ok: false, reason: 'bad_credentials' };
    // A device that could pick another id would kick that device off (MQTT takes over sessions by client id).
    if (clientId !== device.id) return { ok: false, reason: 'client_id_mismatch' };
    return { ok: true, identity: { type: 'device', id: device.id }, device: { id: device.id, updatedAt: device.updatedAt } };
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}
