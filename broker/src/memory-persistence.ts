/**
 * aedes' in-memory persistence with the outgoing queues indexed. The stock store keeps each client's unacknowledged
 * QoS 1 messages in an array and finds a message by scanning it, on every delivery and every PUBACK: with ingest
 * holding tens of thousands of messages unacknowledged while it batches, each message cost a scan of all the others,
 * and a broker past its peak slowed to a few hundred messages a second instead of holding its rate. Here every
 * operation takes constant time (amortized): a queue is a ring of places in the order its messages were queued (what a
 * reconnecting session is redelivered first), and a message is found by that order or, for a client out of it, by
 * an index (OutgoingQueue). Everything else (subscriptions, retained messages, wills, incoming QoS 2) is the stock store's.
 */
import { createRequire } from 'node:module';
import { Readable } from 'node:stream';
import type { Client } from 'aedes';
import aedesPacket from 'aedes-packet';
import type { AedesPacket as AnyAedesPacket } from 'aedes-packet';
import type { AedesPersistence } from 'aedes-persistence';
import type { CommitWaiter } from './write-ahead-log.js';

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

/** The places a queue's ring starts with; it doubles as the queue grows. */
const INITIAL_RING = 16;
/** Packet identifiers run from 1 to this, then start again. */
const MAX_MESSAGE_ID = 65_535;
/** Lookups in a row answered by the order after which an index is dropped, at the least. */
const INDEX_KEPT_HITS = 1024;

/**
 * One client's unacknowledged messages, in the order they were queued, each at its place (a number that names it for
 * good: the durable store's key). A consumer is sent its messages in the order they were queued and acknowledges
 * them in that order (MQTT 3.1.1, 4.6), so each operation finds its message where the last one left off: the places
 * are a ring of slots, the message sent next is the one after the last sent, and the one acknowledged is the oldest.
 * Maps keyed by place, identifier and origin did the same for any order, but a queue is a stream through them: each
 * rebuilt its table every few thousand messages, tables large enough to go straight to the old generation, and the
 * broker's garbage collection was largely theirs. The indexes for any order are built when a client strays from it
 * (a redelivery after a reconnect, an acknowledgement out of order) and kept while it strays, so that no order costs
 * a scan per message.
 */
export class OutgoingQueue {
  private sequence = 0;
  /** The messages at places `first` to `sequence`, each at place & (length - 1); a cleared place holds undefined. */
  private ring: (AedesPacket | undefined)[] = new Array<AedesPacket | undefined>(INITIAL_RING).fill(undefined);
  private first = 1;
  private inRing = 0;
  /**
   * Messages older than the ring's first place, oldest first: those a client leaves unacknowledged behind others it
   * acknowledges would otherwise stretch the ring over every place queued since.
   */
  private readonly stragglers = new Map<number, AedesPacket>();
  /** The place after the last message recorded as sent: where the next one most likely is. */
  private sendCursor = 1;
  /** The identifier the last message was sent with. */
  private lastSentId = 0;
  /** Which entry a broker-assigned identity names: brokerId → brokerCounter → place. Built on a miss of the cursor. */
  private byOrigin: Map<string, Map<number, number>> | undefined;
  /**
   * The oldest entry sent with each packet identifier, and the others sharing it (identifiers wrap at 65,535). Built on
   * an acknowledgement of neither the oldest message nor the one at the place its identifier gives (findMessageId).
   */
  private byMessageId: Map<number, number[]> | undefined;
  /** Lookups in a row that the order answered while an index was kept. */
  private originHits = 0;
  private messageIdHits = 0;

  get size(): number {
    return this.inRing + this.stragglers.size;
  }

  /** Queues a copy of the packet; returns its place in the queue, which names it for good (the durable store's key). */
  enqueue(packet: AedesPacket): { seq: number; stored: AedesPacket } {
    const seq = this.sequence + 1;
    const stored = new Packet(packet);
    this.restore(seq, stored);
    return { seq, stored };
  }

  /** Puts back a message queued at `seq` before a restart; messages must come back in the order they were queued. */
  restore(seq: number, stored: AedesPacket): void {
    if (this.inRing === 0) this.first = seq;
    while (seq - this.first >= this.ring.length) this.makeRoom(seq);
    this.ring[this.slot(seq)] = stored;
    this.inRing++;
    this.sequence = Math.max(this.sequence, seq);
    if (this.byOrigin && this.originOf(stored) === undefined) this.setOrigin(stored, seq);
    if (this.byMessageId) this.index(stored.messageId, seq);
  }

  get(seq: number): AedesPacket | undefined {
    return this.spans(seq) ? this.ring[this.slot(seq)] : this.stragglers.get(seq);
  }

  /** Whether the place is the ring's to hold (older ones are the stragglers'). */
  private spans(seq: number): boolean {
    return seq >= this.first && seq <= this.sequence;
  }

  /** Moves the ring's first place past cleared ones, to its oldest message or past the last place. */
  private skipClearedHead(): void {
    while (this.first <= this.sequence && this.ring[this.slot(this.first)] === undefined) this.first++;
  }

  private slot(seq: number): number {
    return seq & (this.ring.length - 1);
  }

  /** The queued messages with their places, oldest first. */
  *placed(): IterableIterator<[number, AedesPacket]> {
    yield* this.stragglers;
    const mask = this.ring.length - 1;
    for (let seq = this.first; seq <= this.sequence; seq++) {
      const packet = this.ring[seq & mask];
      if (packet) yield [seq, packet];
    }
  }

  /**
   * Records the packet identifier a queued message was sent with, or swaps a PUBLISH for its PUBREL (QoS 2);
   * returns the place of the entry it changed.
   */
  update(packet: AedesPacket): number {
    const seq = packet.brokerId === undefined ? undefined : this.findOrigin(packet.brokerId, packet.brokerCounter);
    if (seq !== undefined) {
      this.renumber(seq, packet.messageId);
      return seq;
    }
    const sameId = packet.messageId === undefined ? undefined : this.findMessageId(packet.messageId);
    const entry = sameId === undefined ? undefined : this.get(sameId);
    if (sameId !== undefined && entry && entry.brokerId !== packet.brokerId) {
      if (this.byOrigin && this.originOf(entry) === sameId) this.deleteOrigin(entry);
      this.replace(sameId, packet);
      if (this.byOrigin) this.setOrigin(packet, sameId);
      return sameId;
    }
    throw new Error('no such packet');
  }

  /** Records the packet identifier a queued PUBLISH was sent with, as update() does; false when no entry is that message. */
  sent(brokerId: string, brokerCounter: number, messageId: number): boolean {
    const seq = this.findOrigin(brokerId, brokerCounter);
    if (seq === undefined) return false;
    this.renumber(seq, messageId);
    return true;
  }

  /** Removes and returns the oldest message sent with this identifier, with its place in the queue. */
  clear(messageId: number | undefined): { seq: number; packet: AedesPacket } | undefined {
    if (messageId === undefined) return undefined;
    const seq = this.findMessageId(messageId);
    if (seq === undefined) return undefined;
    const entry = this.get(seq) as AedesPacket;
    if (this.byMessageId) this.unindex(messageId, seq);
    if (this.byOrigin && this.originOf(entry) === seq) this.deleteOrigin(entry);
    this.remove(seq);
    return { seq, packet: entry };
  }

  snapshot(): AedesPacket[] {
    return Array.from(this.placed(), ([, packet]) => packet);
  }

  private renumber(seq: number, messageId: number | undefined): void {
    const entry = this.get(seq) as AedesPacket;
    if (this.byMessageId) this.unindex(entry.messageId, seq);
    entry.messageId = messageId;
    if (this.byMessageId) this.index(messageId, seq);
    this.sendCursor = seq + 1;
    this.lastSentId = messageId ?? 0;
  }

  private replace(seq: number, packet: AedesPacket): void {
    if (this.spans(seq)) this.ring[this.slot(seq)] = packet;
    else this.stragglers.set(seq, packet);
  }

  private remove(seq: number): void {
    if (!this.spans(seq)) this.stragglers.delete(seq);
    else {
      this.ring[this.slot(seq)] = undefined;
      this.inRing--;
      this.skipClearedHead();
    }
    if (this.size === 0) {
      // An empty queue is in order again: what was built for a client out of it is dropped.
      this.byOrigin = undefined;
      this.byMessageId = undefined;
    }
  }

  /**
   * Makes the ring reach `seq`: twice as many places while it is at least half full, or else its oldest messages move
   * to the stragglers, so that its length stays within twice what it holds.
   */
  private makeRoom(seq: number): void {
    if (this.inRing * 2 >= this.ring.length) {
      const larger = new Array<AedesPacket | undefined>(this.ring.length * 2).fill(undefined);
      for (let place = this.first; place <= this.sequence; place++) larger[place & (larger.length - 1)] = this.ring[this.slot(place)];
      this.ring = larger;
      return;
    }
    const newFirst = seq - this.ring.length + 1;
    for (; this.first < newFirst && this.first <= this.sequence; this.first++) {
      const packet = this.ring[this.slot(this.first)];
      if (packet === undefined) continue;
      this.stragglers.set(this.first, packet);
      this.ring[this.slot(this.first)] = undefined;
      this.inRing--;
    }
    this.skipClearedHead();
    if (this.inRing === 0) this.first = seq;
  }

  private findOrigin(brokerId: string, brokerCounter: number): number | undefined {
    const seq = this.originAt(this.sendCursor, brokerId, brokerCounter) ?? this.originAt(this.first, brokerId, brokerCounter);
    if (seq !== undefined) {
      if (this.byOrigin && ++this.originHits >= this.dropIndexAfter()) this.byOrigin = undefined;
      return seq;
    }
    this.originHits = 0;
    if (!this.byOrigin) {
      this.byOrigin = new Map();
      for (const [place, packet] of this.placed()) if (this.originOf(packet) === undefined) this.setOrigin(packet, place);
    }
    return this.byOrigin.get(brokerId)?.get(brokerCounter);
  }

  private originAt(seq: number, brokerId: string, brokerCounter: number): number | undefined {
    const entry = this.get(seq);
    return entry && entry.brokerCounter === brokerCounter && entry.brokerId === brokerId ? seq : undefined;
  }

  /**
   * The oldest message sent with the identifier: the oldest of all, when acknowledgements come in order, or else the
   * one at the place the identifier gives when messages were sent in order with consecutive identifiers (a consumer
   * such as ingest acknowledges a batch at a time, and its batches may become durable out of order).
   */
  private findMessageId(messageId: number): number | undefined {
    const seq = this.stragglers.size > 0 ? undefined : (this.messageIdAt(this.first, messageId) ?? this.messageIdAt(this.sentPlace(messageId), messageId));
    if (seq !== undefined) {
      if (this.byMessageId && ++this.messageIdHits >= this.dropIndexAfter()) this.byMessageId = undefined;
      return seq;
    }
    this.messageIdHits = 0;
    if (!this.byMessageId) {
      this.byMessageId = new Map();
      for (const [place, packet] of this.placed()) this.index(packet.messageId, place);
    }
    return this.byMessageId.get(messageId)?.[0];
  }

  private messageIdAt(seq: number, messageId: number): number | undefined {
    return seq - this.first < MAX_MESSAGE_ID && this.get(seq)?.messageId === messageId ? seq : undefined;
  }

  /** The place of the message sent with `messageId`, counting back from the last one sent. */
  private sentPlace(messageId: number): number {
    return this.sendCursor - 1 - ((this.lastSentId - messageId + MAX_MESSAGE_ID) % MAX_MESSAGE_ID);
  }

  /** A client back in order for as many messages as its queue holds has paid for the index's next build: it is dropped. */
  private dropIndexAfter(): number {
    return Math.max(INDEX_KEPT_HITS, this.size);
  }

  private originOf(packet: AedesPacket): number | undefined {
    return packet.brokerId === undefined ? undefined : this.byOrigin?.get(packet.brokerId)?.get(packet.brokerCounter);
  }

  private setOrigin(packet: AedesPacket, seq: number): void {
    if (packet.brokerId === undefined || !this.byOrigin) return;
    let counters = this.byOrigin.get(packet.brokerId);
    if (!counters) {
      counters = new Map();
      this.byOrigin.set(packet.brokerId, counters);
    }
    counters.set(packet.brokerCounter, seq);
  }

  private deleteOrigin(packet: AedesPacket): void {
    const counters = this.byOrigin?.get(packet.brokerId);
    counters?.delete(packet.brokerCounter);
    // A broker gone for good (messages restored from before a restart) leaves no empty map behind.
    if (counters?.size === 0) this.byOrigin?.delete(packet.brokerId);
  }

  private index(messageId: number | undefined, seq: number): void {
    if (messageId === undefined || !this.byMessageId) return;
    const holders = this.byMessageId.get(messageId);
    if (holders) holders.push(seq);
    else this.byMessageId.set(messageId, [seq]);
  }

  private unindex(messageId: number | undefined, seq: number): void {
    if (messageId === undefined || !this.byMessageId) return;
    const holders = this.byMessageId.get(messageId);
    if (!holders) return;
    const at = holders[0] === seq ? 0 : holders.indexOf(seq);
    if (at >= 0) holders.splice(at, 1);
    if (holders.length === 0) this.byMessageId.delete(messageId);
  }
}

/** Topics whose persistent subscribers are remembered at once; past it the memory starts over. */
const MATCHED_TOPICS = 20_000;

type TopicSubscriber = { clientId: string; topic: string; qos: number };

/**
 * The stock store with indexed outgoing queues, and the persistent subscribers of a topic remembered until a
 * subscription changes: aedes asks for them on every QoS 1 publish, and the stock trie builds a fresh array of
 * fresh objects each time, for subscriptions that change only when a session subscribes. The durable store
 * (durable-persistence.ts) builds on it.
 */
export class IndexedMemoryPersistence extends StockMemoryPersistence {
  readonly #outgoing = new Map<string, OutgoingQueue>();
  readonly #subscribersOf = new Map<string, readonly TopicSubscriber[]>();
  /** Subscriptions broadcast by other brokers change the trie without passing here: nothing may be remembered then. */
  readonly #remember: boolean;
  /** Counts subscription changes, so that an answer computed across one is not remembered. */
  #generation = 0;

  constructor(options: Record<string, unknown> = {}) {
    super(options);
    this.#remember = !options.broadcastSubscriptions;
  }

  override async subscriptionsByTopic(topic: string): Promise<TopicSubscriber[]> {
    const known = this.#subscribersOf.get(topic);
    if (known) return known as TopicSubscriber[];
    const generation = this.#generation;
    const subscribers = await super.subscriptionsByTopic(topic);
    // A subscription changed while the trie answered: the answer may predate it.
    if (!this.#remember || generation !== this.#generation) return subscribers;
    if (this.#subscribersOf.size >= MATCHED_TOPICS) this.#subscribersOf.clear();
    // Shared by every publish to the topic: frozen, so that a caller that changed it would fail rather than corrupt it.
    this.#subscribersOf.set(topic, Object.freeze(subscribers));
    return subscribers;
  }

  override async addSubscriptions(client: Client, subs: { topic: string; qos: number }[]): Promise<void> {
    try {
      await super.addSubscriptions(client, subs);
    } finally {
      this.#forgetSubscribers();
    }
  }

  override async removeSubscriptions(client: Client, topics: string[]): Promise<void> {
    try {
      await super.removeSubscriptions(client, topics);
    } finally {
      this.#forgetSubscribers();
    }
  }

  override async cleanSubscriptions(client: Client): Promise<void> {
    try {
      await super.cleanSubscriptions(client);
    } finally {
      this.#forgetSubscribers();
    }
  }

  #forgetSubscribers(): void {
    this.#generation++;
    this.#subscribersOf.clear();
  }

  /** Every client's queue, by client id. */
  protected outgoingQueues(): ReadonlyMap<string, OutgoingQueue> {
    return this.#outgoing;
  }

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

  override outgoingEnqueueCombi(subs: { clientId: string }[], packet: AedesPacket): Promise<void> {
    return new Promise((resolve, reject) => this.enqueueFor(subs, packet, { committed: (error) => (error ? reject(error) : resolve()) }));
  }

  /**
   * outgoingEnqueueCombi for a message to `topic`, without its promises (lean-publish.ts): false, doing nothing, while
   * the topic's persistent subscribers are not known (the caller asks for them as aedes does); else the message is
   * queued for each of them and `waiter` is told once it is stored.
   */
  enqueueForTopic(topic: string, packet: AedesPacket, waiter: CommitWaiter): boolean {
    const subscribers = this.#subscribersOf.get(topic);
    if (!subscribers) return false;
    this.enqueueFor(subscribers, packet, waiter);
    return true;
  }

  /** In memory the message is stored once queued: the waiter is told at once. */
  protected enqueueFor(subs: readonly { clientId: string }[], packet: AedesPacket, waiter: CommitWaiter): void {
    for (const sub of subs) this.outgoingQueue(sub.clientId).enqueue(packet);
    waiter.committed();
  }

  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    this.outgoingQueue(client.id).update(packet);
  }

  override async outgoingClearMessageId(client: Client, packet: AedesPacket): Promise<AedesPacket | undefined> {
    return this.outgoingCleared(client.id, packet.messageId);
  }

  /**
   * outgoingUpdate for a QoS 1 PUBLISH sent to a connected client, answered at once (lean-delivery.ts): false when
   * the client's queue does not hold that message. The durable store logs no such update (see its outgoingUpdate).
   */
  outgoingSent(clientId: string, brokerId: string, brokerCounter: number, messageId: number): boolean {
    return this.#outgoing.get(clientId)?.sent(brokerId, brokerCounter, messageId) ?? false;
  }

  /** outgoingClearMessageId answered at once (lean-publish.ts takes a subscriber's PUBACK with it). */
  outgoingCleared(clientId: string, messageId: number | undefined): AedesPacket | undefined {
    return this.#outgoing.get(clientId)?.clear(messageId)?.packet;
  }

  override outgoingStream(client: Client): Readable {
    // A copy: the queue changes while aedes replays it to a reconnecting client.
    return Readable.from(this.#outgoing.get(client.id)?.snapshot() ?? []);
  }
}

/** The indexed store a broker's persistence is or wraps (the memory and the durable store); undefined for any other. */
export function indexedStoreOf(persistence: unknown): IndexedMemoryPersistence | undefined {
  const store = persistence instanceof CallBackPersistence ? (persistence as unknown as { asyncPersistence: unknown }).asyncPersistence : persistence;
  return store instanceof IndexedMemoryPersistence ? store : undefined;
}

/** The broker's store when nothing must outlive it (BROKER_STORE=memory): aedes' callback interface over the indexed store. */
export function createMemoryPersistence(options: Record<string, unknown> = {}): AedesPersistence {
  return new CallBackPersistence((opts) => new IndexedMemoryPersistence(opts), options);
}
