/**
 * The aedes instance with the platform's rules: authentication against the registry, topic ACL,
 * per-device rate limits and presence. Transport (TCP, TLS, packet limits) is wired in server.ts.
 */
import { Aedes, type AedesOptions, type Client, type PublishPacket } from 'aedes';
import type { DeviceRegistry } from '@city/devices';
import { deviceTopic, type RejectionNotice } from '@city/devices';
import type { Logger } from '@city/platform';
import { mayPublish, maySubscribe, type Identity } from './acl.js';
import type { ConnectThrottle } from './connect-throttle.js';
import { createCredentialChecker } from './credentials.js';
import type { BrokerMetrics } from './metrics.js';
import { createMemoryPersistence } from './memory-persistence.js';
import { createMessageQueue } from './message-queue.js';
import { TokenBucket } from './rate-limit.js';
import { createPresence } from './presence.js';
import { watchRevocations } from './revocation.js';

export interface DeviceBrokerOptions {
  registry: DeviceRegistry;
  serviceSecret: string;
  metrics: BrokerMetrics;
  logger: Logger;
  deviceRateLimit: number;
  deviceRateBurst: number;
  maxAclViolations: number;
  concurrency: number;
  drainTimeoutMs: number;
  persistence?: AedesOptions['persistence'];
  revocationSweepMs?: number;
  /** Refuses ids and addresses that keep failing at CONNECT; none when absent. */
  connectThrottle?: ConnectThrottle;
}

interface ClientState {
  identity: Identity;
  /** The registry row's version at CONNECT, to notice a removal or rotation later. */
  device?: { id: string; updatedAt: number };
  bucket: TokenBucket;
  violations: number;
  /** The last topic the client was allowed to publish to: a device publishes to the same few, message after message. */
  allowedTopic?: string;
}

/** Dropped publishes are re-addressed here: `$` topics never match wildcard subscriptions, and forwarding refuses them. */
const DROPPED_PREFIX = '$dropped/';

const BAD_CREDENTIALS = 4;
const IDENTIFIER_REJECTED = 2;
/** "Server unavailable": clients retry it with their back-off, and it says nothing about the credentials. */
const SERVER_UNAVAILABLE = 3;

export async function createDeviceBroker(options: DeviceBrokerOptions): Promise<Aedes> {
  const { metrics, logger } = options;
  const states = new WeakMap<Client, ClientState>();
  // Per device, not per connection: a device reconnecting after every cut would otherwise get a fresh burst each time.
  // Only authenticated devices get one, so the map is bounded by the registry.
  const buckets = new Map<string, TokenBucket>();
  const bucketFor = (identity: Identity) => {
    const key = identity.type === 'device' ? identity.id : `service:${identity.name}`;
    let bucket = buckets.get(key);
    if (!bucket) {
      bucket = new TokenBucket(options.deviceRateLimit, options.deviceRateBurst);
      buckets.set(key, bucket);
    }
    return bucket;
  };
  const checkCredentials = createCredentialChecker(options.registry, options.serviceSecret);
  const throttle = options.connectThrottle;

  const refuse = (client: Client, reason: string, message: string, notify: boolean) => {
    metrics.rejections.inc({ reason });
    const state = states.get(client);
    if (!state || state.identity.type !== 'device') return;
    if (notify) notifyDevice(state.identity.id, { reason, message, ts: Date.now() });
    state.violations++;
  };

  const broker: Aedes = await Aedes.createBroker({
    concurrency: options.concurrency,
    mq: createMessageQueue(options.concurrency),
    drainTimeout: options.drainTimeoutMs,
    maxClientsIdLength: 128,
    persistence: options.persistence ?? createMemoryPersistence(),
    authenticate(client, username, password, done) {
      const address = (client.conn as { remoteAddress?: string }).remoteAddress;
      const throttled = throttle?.check(username, address);
      if (throttled?.refused) {
        metrics.connectsRefused.inc({ reason: throttled.reason });
        logger.info({ clientId: client.id.slice(0, 128), address, reason: throttled.reason, retryAfterMs: throttled.retryAfterMs }, 'connect refused');
        return done(Object.assign(new Error(throttled.reason), { returnCode: SERVER_UNAVAILABLE }), false);
      }
      checkCredentials(client.id, username, password).then(
        (result) => {
          if (!result.ok) {
            if (result.reason === 'bad_credentials') throttle?.failed(username, address);
            metrics.connectsRefused.inc({ reason: result.reason });
            logger.info({ clientId: client.id.slice(0, 128), address, reason: result.reason }, 'connect refused');
            const error = Object.assign(new Error(result.reason), {
              returnCode: result.reason === 'client_id_mismatch' ? IDENTIFIER_REJECTED : BAD_CREDENTIALS,
            });
            return done(error, false);
          }
          throttle?.succeeded(username);
          states.set(client, {
            identity: result.identity,
            ...(result.device ? { device: result.device } : {}),
            bucket: bucketFor(result.identity),
            violations: 0,
          });
          // Presence is the broker's job: a device's own will could name any topic, and its payload would carry a stale time.
          if (result.identity.type === 'device') (client as unknown as { _will: unknown })._will = null;
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'credential check failed');
          done(Object.assign(new Error('registry unavailable'), { returnCode: 3 }), false);
        },
      );
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null);
      const state = states.get(client);
      if (!state) return done(new Error('not authenticated'));
      if (packet.topic !== state.allowedTopic) {
        if (!mayPublish(state.identity, packet.topic)) {
          refuse(client, 'acl_publish', `publishing to ${packet.topic.slice(0, 200)} is not allowed`, true);
          return dropOrDisconnect(client, state, packet, done);
        }
        state.allowedTopic = packet.topic;
      }
      if (state.identity.type === 'device' && !state.bucket.take()) {
        refuse(client, 'rate_limited', `more than ${options.deviceRateLimit} messages/s`, state.violations === 0);
        return dropOrDisconnect(client, state, packet, done);
      }
      metrics.messagesIn.inc();
      done(null);
    },
    authorizeSubscribe(client, subscription, done) {
      const state = states.get(client);
      if (state && maySubscribe(state.identity, subscription.topic)) return done(null, subscription);
      refuse(client, 'acl_subscribe', `subscribing to ${subscription.topic.slice(0, 200)} is not allowed`, false);
      done(null, null);
    },
    authorizeForward(_client, packet) {
      if (packet.topic.startsWith(DROPPED_PREFIX)) return null;
      metrics.messagesOut.inc();
      return packet;
    },
  });

  const dropOrDisconnect = (client: Client, state: ClientState, packet: PublishPacket, done: (error?: Error | null) => void) => {
    if (state.violations > options.maxAclViolations) {
      metrics.rejections.inc({ reason: 'disconnected_for_violations' });
      logger.warn({ clientId: client.id }, 'disconnecting a client that keeps violating its limits');
      return done(new Error('too many violations'));
    }
    // Acknowledged but never routed, so that a well-meaning device does not retry the same publish forever.
    packet.topic = DROPPED_PREFIX + packet.topic;
    packet.retain = false;
    done(null);
  };

  const notifyDevice = (deviceId: string, notice: RejectionNotice) => {
    broker.publish(
      { cmd: 'publish', topic: deviceTopic(deviceId, 'errors'), payload: Buffer.from(JSON.stringify(notice)), qos: 0, retain: false, dup: false },
      () => undefined,
    );
  };

  createPresence(broker, (client) => states.get(client)?.identity, metrics);
  const stopWatching = watchRevocations(broker, options.registry, (client) => states.get(client)?.device, metrics, logger, options.revocationSweepMs ?? 10_000);
  broker.once('closed', stopWatching);
  broker.on('clientError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'client error'));
  broker.on('connectionError', (client, error) => logger.debug({ clientId: client.id, err: error.message }, 'connection error'));
  return broker;
}
