/**
 * The hot case of a fan-in, a device's QoS 1 PUBLISH, taken straight from the socket's bytes, and with it the
 * consumer's PUBACK for each message delivered. aedes' own path costs every such packet a pass through the socket's
 * read buffer, mqtt-packet's parser and its buffer list, a packet object, a chain of callbacks and, for a PUBLISH, a
 * second copy in broker.publish's pipeline: the garbage of all of it was the largest part of the broker's time. Here
 * a whole PUBLISH is read where the socket receives it (publish-frame.ts), authorized by the broker's own
 * authorizePublish (ACL, rate limit, metrics), stored for the persistent subscribers, acknowledged once stored and
 * handed to the message bus, as aedes' pipeline does for it; a PUBACK clears the message from the subscriber's
 * queue, as aedes' handler does.
 *
 * Only bytes that start a packet are offered, and only while aedes has nothing of the connection's left to read:
 * any other packet, and every PUBLISH the frame reader leaves alone, goes to aedes unchanged, which keeps its
 * rules for them (CONNECT, SUBSCRIBE, malformed input, QoS 0 and 2, retained messages, MQTT 5). QoS 0 stays with
 * aedes for its pacing: aedes reads a client's next packets once its QoS 0 message is delivered, and without that
 * a fan-in outran the deliveries to the consumer.
 *
 * A device's messages keep their order: authorization answers at once and the store keeps the order of its writes;
 * what the connection sends next goes to aedes only once the messages taken here are stored, and nothing is taken
 * here while a PUBLISH of the client's is being stored on aedes' path.
 *
 * This relies on aedes internals that its types do not show: the client on `socket.client`, its flags, its
 * keep-alive timer, and the broker's `mq` and `persistence`.
 */
import type { Socket } from 'node:net';
import type { Aedes, AuthorizePublishHandler, Client, PublishPacket } from 'aedes';
import aedesPacket from 'aedes-packet';
import type { AedesPacket } from 'aedes-packet';
import { pubackPacket } from '@city/platform';
import type { IndexedMemoryPersistence } from './memory-persistence.js';
import type { CommitWaiter } from './write-ahead-log.js';
import { readPubackFrame, readPublishFrame, type PublishFrame } from './publish-frame.js';

export interface LeanPublish {
  /** Takes the whole PUBLISH and PUBACK packets at the start of `bytes` from the connection; returns how many bytes it took. */
  take(socket: Socket, bytes: Buffer): number;
  /** Calls `then` once every QoS 1 message taken from the connection is stored (or failed); false, and no call, if none is pending. */
  afterStored(socket: Socket, then: () => void): boolean;
}

/** A connection's QoS 1 messages taken and not yet stored, and what waits for them. */
interface Pending {
  count: number;
  /** Of those, the ones whose topic's subscribers were asked of the store's trie: what follows waits its turn behind them. */
  asking: number;
  waiting: (() => void)[];
  /** The connection's last PUBLISH topic, which its next one most likely shares (publish-frame.ts). */
  lastTopic: string;
}

interface ClientInternals extends Client {
  connackSent: boolean;
  version: number;
  _paused?: boolean;
  _keepaliveInterval: number;
  _keepaliveTimer: NodeJS.Timeout | null;
}

interface BrokerInternals {
  mq: { emit(message: AedesPacket, done?: () => void): unknown };
  maxTopicLevels: number;
  published(packet: PublishPacket, client: Client, done: () => void): void;
}

/** aedes-packet's constructor: the broker's copy of a message, numbered by its counter. */
const Packet = aedesPacket as unknown as new (packet: PublishPacket, broker: Aedes) => AedesPacket;

/** MQTT 3.1 and 3.1.1: MQTT 5 publishes carry properties, left to aedes. */
const PLAIN_VERSIONS = new Set([3, 4]);

const noop = () => undefined;

/**
 * `authorize` is the broker's rule for a PUBLISH as it was before anything wrapped it; `aedesStoring` tells a client
 * with a PUBLISH on aedes' path still being stored (acknowledge-after-store.ts), whose next ones are left to aedes.
 */
export function createLeanPublish(broker: Aedes, store: IndexedMemoryPersistence, authorize: AuthorizePublishHandler, aedesStoring: (client: Client) => boolean): LeanPublish {
  const internals = broker as unknown as BrokerInternals;
  const { mq } = internals;
  const pending = new WeakMap<Socket, Pending>();
  const pendingOf = (socket: Socket) => {
    let state = pending.get(socket);
    if (!state) {
      state = { count: 0, asking: 0, waiting: [], lastTopic: '' };
      pending.set(socket, state);
    }
    return state;
  };

  const settle = (socket: Socket) => {
    const state = pending.get(socket) as Pending;
    if (--state.count > 0) return;
    const waiting = state.waiting;
    state.waiting = [];
    for (const then of waiting) then();
  };

  const acknowledge = (socket: Socket, client: ClientInternals, messageId: number) => {
    if (!client.connected) return;
    socket.write(pubackPacket(messageId));
  };

  const route = (client: ClientInternals, packet: PublishPacket, message: AedesPacket & { clientId?: string }) => {
    // Named after it is stored, as aedes does: the store's compact layout is for packets without it (stored-value.ts).
    message.clientId = client.id;
    mq.emit(message);
    internals.published(packet, client, noop);
    broker.emit('publish', packet, client);
  };

  /** A message taken, waiting for the store: one object per message rather than a chain of promises and closures. */
  class Storing implements CommitWaiter {
    constructor(
      private readonly socket: Socket,
      private readonly state: Pending,
      private readonly client: ClientInternals,
      private readonly packet: PublishPacket,
      private readonly message: AedesPacket,
    ) {}

    /** The store's answer for a message whose subscribers the trie was asked for. */
    answered(error?: Error): void {
      this.state.asking--;
      this.committed(error);
    }

    committed(error?: Error): void {
      // Not stored, so not acknowledged: the connection closes and the device sends the message again.
      if (error) this.client.emit('error', error);
      else {
        route(this.client, this.packet, this.message);
        acknowledge(this.socket, this.client, this.packet.messageId as number);
      }
      settle(this.socket);
    }
  }

  const publish = (socket: Socket, state: Pending, client: ClientInternals, frame: PublishFrame) => {
    const packet = { cmd: 'publish', topic: frame.topic, payload: frame.payload, qos: 1, retain: false, dup: frame.dup, messageId: frame.messageId } as PublishPacket;
    authorize.call(broker, client, packet, (error) => {
      // As aedes does with a refused PUBLISH: the client errs, and its connection closes.
      if (error) return void client.emit('error', error);
      // A dropped message is re-addressed where no subscription reaches: acknowledged, routed nowhere.
      if (packet.topic !== frame.topic) return acknowledge(socket, client, frame.messageId);
      const message = new Packet(packet, broker);
      state.count++;
      const storing = new Storing(socket, state, client, packet, message);
      // The subscribers of a topic are known once asked for, until a subscription changes; the store queues the
      // messages in the order it is given them, so none goes ahead of one of the device's still being asked for.
      if (state.asking === 0 && store.enqueueForTopic(frame.topic, message, storing)) return;
      state.asking++;
      store
        .subscriptionsByTopic(frame.topic)
        .then((subs) => store.outgoingEnqueueCombi(subs, message))
        .then(
          () => storing.answered(),
          (storeError: Error) => storing.answered(storeError),
        );
    });
  };

  /** A subscriber's PUBACK, as aedes' handler takes it: the message leaves the subscriber's queue. */
  const acknowledged = (client: ClientInternals, messageId: number) => {
    broker.emit('ack', store.outgoingCleared(client.id, messageId), client);
  };

  const afterStored = (socket: Socket, then: () => void) => {
    const state = pending.get(socket);
    if (!state || state.count === 0) return false;
    state.waiting.push(then);
    return true;
  };

  const take = (socket: Socket, bytes: Buffer) => {
    const client = (socket as Socket & { client?: ClientInternals }).client;
    if (!client || !client.connackSent || client.closed || client._paused || !PLAIN_VERSIONS.has(client.version) || aedesStoring(client)) return 0;
    let offset = 0;
    const state = pendingOf(socket);
    while (offset < bytes.length && !client.closed) {
      const acknowledgedId = readPubackFrame(bytes, offset);
      if (acknowledgedId !== undefined) {
        offset += 4;
        acknowledged(client, acknowledgedId);
        continue;
      }
      const frame = readPublishFrame(bytes, offset, internals.maxTopicLevels, state.lastTopic);
      if (!frame) break;
      offset = frame.end;
      state.lastTopic = frame.topic;
      publish(socket, state, client, frame);
    }
    if (offset > 0 && client._keepaliveInterval > 0) client._keepaliveTimer?.refresh();
    return offset;
  };

  return { take, afterStored };
}
