/**
 * aedes' in-memory persistence with the outgoing queues indexed. The stock store keeps each client's unacknowledged
 * QoS 1 messages in an array and finds a message by scanning it, on every delivery and every PUBACK: with ingest
 * holding tens of thousands of messages unacknowledged while it batches, each message cost a scan of all the others,
 * and a broker past its peak slowed to a few hundred messages a second instead of holding its rate. Here every
 * operation is a map lookup; order (what a reconnecting session is redelivered first) is the map's insertion order.
 * Everything else (subscriptions, retained messages, wills, incoming QoS 2) is the stock store's.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Client } from 'aedes';
import aedesPacket from 'aedes-packet';
import type { AedesPacket as AnyAedesPacket } from 'aedes-packet';
import type { AedesPersistence } from 'aedes-persistence';

/** The stock store's methods used here and by the durable store (aedes-persistence publishes no types for its parts). */
interface StockStore {
  setup(broker: unknown): Promise<void>;
  storeRetained(packet: AedesPacket): Promise<void>;
  addSubscriptions(client: Client, subs: { topic: string; qos: number }[]): Promise<void>;
  removeSubscriptions(client: Client, topics: string[]): Promise<void>;
  cleanSubscriptions(client: Client): Promise<void>;
  subscriptionsByClient(client: Client): Promise<{ topic: string; qos: number }[]>;
  subscriptionsByTopic(topic: string): Promise<{ clientId: string; topic: string; qos: number }[]>;
  createRetainedStream(pattern: string): Readable;
  streamWill(brokers?: Record<string, number>): Readable;
  incomingStorePacket(client: Client, packet: AedesPacket): Promise<void>;
  incomingGetPacket(client: Client, packet: AedesPacket): Promise<AedesPacket>;
  incomingDelPacket(client: Client, packet: AedesPacket): Promise<void>;
  cleanIncoming(client: Client): Promise<void>;
  putWill(client: Client, packet: AedesPacket): Promise<void>;
  delWill(client: Client): Promise<AedesPacket | undefined>;
  destroy(): Promise<void>;
  outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void>;
  outgoingUpdate(client: Client, packet: AedesPacket): Promise<void>;
  outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket | undefined>;
  outgoingStream(client: Client): Readable;
}

const require = createRequire(import.meta.url);
const StockMemoryPersistence = require('aedes-persistence/asyncPersistence.js') as new (options?: Record<string, unknown>) => StockStore;
const { CallBackPersistence } = require('aedes-persistence/callBackPersistence.js') as {
  CallBackPersistence: new (factory: (options: Record<string, unknown>) => StockStore, options?: Record<string, unknown>) => AedesPersistence;
};

/** What the outgoing queues handle: PUBLISH and PUBREL packets, which carry an identifier once sent. */
type AedesPacket = AnyAedesPacket & { messageId?: number };
/** aedes-packet's constructor (its typings describe it as a namespace): copies a packet with its broker identity. */
const Packet = aedesPacket as unknown as new (packet: AedesPacket) => AedesPacket;

/** One client's unacknowledged messages, in the order they were queued. */
export class OutgoingQueue {
  private sequence = 0;
  private readonly entries = new Map<number, AedesPacket>();
  /** Which entry a broker-assigned identity (brokerId, brokerCounter) names. */
  private readonly byOrigin = new Map<string, number>();
  /** Entries by MQTT packet identifier, oldest first (identifiers wrap at 65,535, so two may share one). */
  private readonly byMessageId = new Map<number, number[]>();

  get size(): number {
    return this.entries.size;
  }

  /** Queues a copy of the packet; returns its place in the queue, which names it for good (the durable store's key). */
  enqueue(packet: AedesPacket): { seq: number; stored: AedesPacket } {
    const seq = ++this.sequence;
    const stored = new Packet(packet);
    this.restore(seq, stored);
    return { seq, stored };
  }

  /** Puts back a message queued at `seq` before a restart; messages must come back in the order they were queued. */
  restore(seq: number, stored: AedesPacket): void {
    this.sequence = Math.max(this.sequence, seq);
    this.entries.set(seq, stored);
    const origin = originOf(stored);
    if (origin !== undefined && !this.byOrigin.has(origin)) this.byOrigin.set(origin, seq);
    this.index(stored.messageId, seq);
  }

  get(seq: number): AedesPacket | undefined {
    return this.entries.get(seq);
  }

  /**
   * Records the packet identifier a queued message was sent with, or swaps a PUBLISH for its PUBREL (QoS 2);
   * returns the place of the entry it changed.
   */
  update(packet: AedesPacket): number {
    const origin = originOf(packet);
    const seq = origin === undefined ? undefined : this.byOrigin.get(origin);
    if (seq !== undefined) {
      const entry = this.entries.get(seq) as AedesPacket;
      this.unindex(entry.messageId, seq);
      entry.messageId = packet.messageId;
      this.index(packet.messageId, seq);
      return seq;
    }
    const sameId = packet.messageId === undefined ? undefined : this.byMessageId.get(packet.messageId)?.[0];
    const entry = sameId === undefined ? undefined : this.entries.get(sameId);
    if (sameId !== undefined && entry && entry.brokerId !== packet.brokerId) {
      const previousOrigin = originOf(entry);
      if (previousOrigin !== undefined && this.byOrigin.get(previousOrigin) === sameId) this.byOrigin.delete(previousOrigin);
      this.entries.set(sameId, packet);
      const replacementOrigin = originOf(packet);
      if (replacementOrigin !== undefined) this.byOrigin.set(replacementOrigin, sameId);
      return sameId;
    }
    throw new Error('no such packet');
  }

  /** Removes and returns the oldest message sent with this identifier, with its place in the queue. */
  clear(messageId: number | undefined): { seq: number; packet: AedesPacket } | undefined {
    if (messageId === undefined) return undefined;
    const seq = this.byMessageId.get(messageId)?.[0];
    if (seq === undefined) return undefined;
    const entry = this.entries.get(seq) as AedesPacket;
    this.unindex(messageId, seq);
    this.entries.delete(seq);
    const origin = originOf(entry);
    if (origin !== undefined && this.byOrigin.get(origin) === seq) this.byOrigin.delete(origin);
    return { seq, packet: entry };
  }

  snapshot(): AedesPacket[] {
    return [...this.entries.values()];
  }

  private index(messageId: number | undefined, seq: number): void {
    if (messageId === undefined) return;
    const seqs = this.byMessageId.get(messageId);
    if (seqs) seqs.push(seq);
    else this.byMessageId.set(messageId, [seq]);
  }

  private unindex(messageId: number | undefined, seq: number): void {
    if (messageId === undefined) return;
    const seqs = this.byMessageId.get(messageId);
    if (!seqs) return;
    const at = seqs.indexOf(seq);
    if (at >= 0) seqs.splice(at, 1);
    if (seqs.length === 0) this.byMessageId.delete(messageId);
  }
}

function originOf(packet: AedesPacket): string | undefined {
  return packet.brokerId === undefined ? undefined : `${packet.brokerId}\u0000${packet.brokerCounter}`;
}

/** The stock store with indexed outgoing queues; the durable store (durable-persistence.ts) builds on it. */
export class IndexedMemoryPersistence extends StockMemoryPersistence {
  readonly #outgoing = new Map<string, OutgoingQueue>();

  protected outgoingQueue(clientId: string): OutgoingQueue {
    let queue = this.#outgoing.get(clientId);
    if (!queue) {
      queue = new OutgoingQueue();
      this.#outgoing.set(clientId, queue);
    }
    return queue;
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    this.outgoingQueue(sub.clientId).enqueue(packet);
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void> {
    for (const sub of subs) this.outgoingQueue(sub.clientId).enqueue(packet);
  }

  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    this.outgoingQueue(client.id).update(packet);
  }

  override async outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket | undefined> {
    return this.#outgoing.get(client.id)?.clear(packet.messageId)?.packet;
  }

  override outgoingStream(client: Client): Readable {
    // A copy: the queue changes while aedes replays it to a reconnecting client.
    return Readable.from(this.#outgoing.get(client.id)?.snapshot() ?? []);
  }
}

/** The broker's store when nothing must outlive it (BROKER_STORE=memory): aedes' callback interface over the indexed store. */
export function createMemoryPersistence(options: Record<string, unknown> = {}): AedesPersistence {
  return new CallBackPersistence((opts) => new IndexedMemoryPersistence(opts), options);
}
