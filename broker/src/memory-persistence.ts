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

/** The stock store's outgoing methods, the ones replaced here (aedes-persistence publishes no types for its parts). */
interface StockStore {
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

  enqueue(packet: AedesPacket): void {
    const seq = ++this.sequence;
    const stored = new Packet(packet);
    this.entries.set(seq, stored);
    const origin = originOf(stored);
    if (origin !== undefined && !this.byOrigin.has(origin)) this.byOrigin.set(origin, seq);
  }

  /** Records the packet identifier a queued message was sent with, or swaps a PUBLISH for its PUBREL (QoS 2). */
  update(packet: AedesPacket): void {
    const origin = originOf(packet);
    const seq = origin === undefined ? undefined : this.byOrigin.get(origin);
    if (seq !== undefined) {
      const entry = this.entries.get(seq) as AedesPacket;
      this.unindex(entry.messageId, seq);
      entry.messageId = packet.messageId;
      this.index(packet.messageId, seq);
      return;
    }
    const sameId = packet.messageId === undefined ? undefined : this.byMessageId.get(packet.messageId)?.[0];
    const entry = sameId === undefined ? undefined : this.entries.get(sameId);
    if (sameId !== undefined && entry && entry.brokerId !== packet.brokerId) {
      const previousOrigin = originOf(entry);
      if (previousOrigin !== undefined && this.byOrigin.get(previousOrigin) === sameId) this.byOrigin.delete(previousOrigin);
      this.entries.set(sameId, packet);
      const replacementOrigin = originOf(packet);
      if (replacementOrigin !== undefined) this.byOrigin.set(replacementOrigin, sameId);
      return;
    }
    throw new Error('no such packet');
  }

  /** Removes and returns the oldest message sent with this identifier. */
  clear(messageId: number | undefined): AedesPacket | undefined {
    if (messageId === undefined) return undefined;
    const seq = this.byMessageId.get(messageId)?.[0];
    if (seq === undefined) return undefined;
    const entry = this.entries.get(seq) as AedesPacket;
    this.unindex(messageId, seq);
    this.entries.delete(seq);
    const origin = originOf(entry);
    if (origin !== undefined && this.byOrigin.get(origin) === seq) this.byOrigin.delete(origin);
    return entry;
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

class IndexedMemoryPersistence extends StockMemoryPersistence {
  readonly #outgoing = new Map<string, OutgoingQueue>();

  #queue(clientId: string): OutgoingQueue {
    let queue = this.#outgoing.get(clientId);
    if (!queue) {
      queue = new OutgoingQueue();
      this.#outgoing.set(clientId, queue);
    }
    return queue;
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    this.#queue(sub.clientId).enqueue(packet);
  }

  override async outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void> {
    for (const sub of subs) this.#queue(sub.clientId).enqueue(packet);
  }

  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    this.#queue(client.id).update(packet);
  }

  override async outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket | undefined> {
    return this.#outgoing.get(client.id)?.clear(packet.messageId);
  }

  override outgoingStream(client: Client): Readable {
    // A copy: the queue changes while aedes replays it to a reconnecting client.
    return Readable.from(this.#outgoing.get(client.id)?.snapshot() ?? []);
  }
}

/** The broker's default persistence: in memory, with aedes' callback interface over the indexed store. */
export function createMemoryPersistence(options: Record<string, unknown> = {}): AedesPersistence {
  return new CallBackPersistence((opts) => new IndexedMemoryPersistence(opts), options);
}
