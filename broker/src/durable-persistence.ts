/**
 * The broker's durable store: the indexed in-memory store, with every change also written to a write-ahead log in
 * the broker's data directory and read back from it at start. What a device counts on (a QoS 1 message queued for
 * a persistent session such as ingest's, a retained status, a subscription, a will, an incoming QoS 2 message) is
 * answered for only once its record is on the disk; the log commits in groups, so a burst of readings shares one
 * synchronized write. What only spares a duplicate (an acknowledgement's delete) is written with the next group without
 * being waited for: lost in a crash, it makes a message come again, never go.
 */
import { join } from 'node:path';
import type { Client } from 'aedes';
import type { AedesPacket as AnyAedesPacket } from 'aedes-packet';
import { IndexedMemoryPersistence } from './memory-persistence.js';
import { appendValue, decodeValue, valueRecord } from './stored-value.js';
import { WriteAheadLog, deleteRangeRecord, deleteRecord, type CommitWaiter, type LiveRecords } from './write-ahead-log.js';

type AedesPacket = AnyAedesPacket & { messageId?: number; brokerId?: string };
type Subscription = { topic: string; qos: number };

/** Record keys: a kind, then the names that place it, separated by NUL (which MQTT strings may not hold). */
const SEP = '\u0000';
const RETAINED = 'r';
const SUBSCRIPTIONS = 's';
const WILL = 'w';
const INCOMING = 'i';
const OUTGOING = 'o';
const keyOf = (...parts: (string | number)[]) => parts.join(SEP);
/** What every key of a client's queue starts with: a range delete names the keys of a run by it. */
const outgoingPrefix = (clientId: string) => `${OUTGOING}${SEP}${clientId}${SEP}`;
/** keyOf(OUTGOING, clientId, seq), made for every message the broker queues. */
const outgoingKey = (clientId: string, seq: number) => `${outgoingPrefix(clientId)}${seq}`;

/** A client's acknowledged messages whose deletes are not yet in the log: the places first to last, in a row. */
interface ClearedRun {
  first: number;
  last: number;
}

export const STORE_FILE = 'broker-store.log';

export class DurablePersistence extends IndexedMemoryPersistence {
  #log: WriteAheadLog | undefined;
  #restored: LiveRecords | undefined;
  /**
   * What the log holds besides the outgoing queues, key → value (the stored object itself, so a change made to it in
   * place is what a compaction writes). The queues are their own record of what is live: kept here as well, each
   * message cost a key string and two map changes more.
   */
  readonly #live = new Map<string, object>();
  /** The incoming QoS 2 identifiers stored per client, so a clean session drops them without a scan. */
  readonly #incoming = new Map<string, Set<number>>();
  /**
   * Acknowledgements not yet logged, per client. A consumer acknowledges in the order it was sent, so its deletes
   * are runs of places: each run is logged as one record when it breaks, or with the next group commit.
   */
  readonly #cleared = new Map<string, ClearedRun>();
  #clearedDue = false;

  /** Opens the store kept in `dataDir`; what it held comes back when aedes sets it up. `compactMinBytes` is for tests. */
  static async open(dataDir: string, options: Record<string, unknown> = {}, compactMinBytes?: number): Promise<DurablePersistence> {
    const store = new DurablePersistence(options);
    const { log, live } = await WriteAheadLog.open(join(dataDir, STORE_FILE), () => store.#snapshot(), compactMinBytes);
    store.#log = log;
    store.#restored = live;
    return store;
  }

  override async setup(broker: unknown): Promise<void> {
    await super.setup(broker);
    const restored = this.#restored;
    this.#restored = undefined;
    if (restored) await this.#restore(restored);
  }

  override async storeRetained(packet: AedesPacket): Promise<void> {
    await super.storeRetained(packet);
    const { topic, payload } = packet as AedesPacket & { topic: string; payload: Buffer | string };
    const key = keyOf(RETAINED, topic);
    await (payload.length === 0 ? this.#delete(key) : this.#set(key, { ...packet }));
  }

  override async addSubscriptions(client: Client, subs: Subscription[]): Promise<void> {
    await super.addSubscriptions(client, subs);
    await this.#saveSubscriptions(client.id);
  }

  override async removeSubscriptions(client: Client, subs: string[]): Promise<void> {
    await super.removeSubscriptions(client, subs);
    await this.#saveSubscriptions(client.id);
  }

  override async cleanSubscriptions(client: Client): Promise<void> {
    await super.cleanSubscriptions(client);
    await this.#saveSubscriptions(client.id);
  }

  override async outgoingEnqueue(sub: { clientId: string }, packet: AedesPacket): Promise<void> {
    await this.outgoingEnqueueCombi([sub], packet);
  }

  protected override enqueueFor(subs: readonly { clientId: string }[], packet: AedesPacket, waiter: CommitWaiter): void {
    if (subs.length === 0) return waiter.committed();
    const last = subs.length - 1;
    for (let i = 0; i <= last; i++) {
      const { clientId } = subs[i] as { clientId: string };
      const { seq, stored } = this.outgoingQueue(clientId).enqueue(packet);
      // One group commit carries them all: the last record's waiter waits for every one.
      appendValue(this.#log as WriteAheadLog, outgoingKey(clientId, seq), stored, i === last ? waiter : undefined);
    }
  }

  /**
   * The identifier a QoS 1 message was sent with is not logged: after a restart the session is a new connection,
   * and the message goes again under a new one, which QoS 1 allows. A QoS 2 message keeps its identifier, and a
   * PUBREL that replaced its PUBLISH is logged, since exactly-once depends on them.
   */
  override async outgoingUpdate(client: Client, packet: AedesPacket): Promise<void> {
    const queue = this.outgoingQueue(client.id);
    const seq = queue.update(packet);
    if (packet.cmd === 'publish' && (packet as { qos?: number }).qos !== 2) return;
    appendValue(this.#log as WriteAheadLog, outgoingKey(client.id, seq), queue.get(seq) as AedesPacket);
  }

  override outgoingCleared(clientId: string, messageId: number | undefined): AedesPacket | undefined {
    const cleared = this.outgoingQueues().get(clientId)?.clear(messageId);
    if (!cleared) return undefined;
    this.#noteCleared(clientId, cleared.seq);
    return cleared.packet;
  }

  #noteCleared(clientId: string, seq: number): void {
    const run = this.#cleared.get(clientId);
    if (run && seq === run.last + 1) {
      run.last = seq;
      return;
    }
    if (run) this.#logCleared(clientId, run);
    this.#cleared.set(clientId, { first: seq, last: seq });
    if (!this.#clearedDue) {
      this.#clearedDue = true;
      setImmediate(() => this.#logAllCleared());
    }
  }

  #logAllCleared(): void {
    this.#clearedDue = false;
    for (const [clientId, run] of this.#cleared) this.#logCleared(clientId, run);
    this.#cleared.clear();
  }

  /** Not waited for: lost in a crash, the run's messages come again, as QoS 1 allows. */
  #logCleared(clientId: string, run: ClearedRun): void {
    void this.#append(run.first === run.last ? deleteRecord(outgoingKey(clientId, run.first)) : deleteRangeRecord(outgoingPrefix(clientId), run.first, run.last));
  }

  override async incomingStorePacket(client: Client, packet: AedesPacket): Promise<void> {
    await super.incomingStorePacket(client, packet);
    const ids = this.#incoming.get(client.id) ?? new Set<number>();
    this.#incoming.set(client.id, ids);
    ids.add(packet.messageId as number);
    await this.#set(keyOf(INCOMING, client.id, packet.messageId as number), await super.incomingGetPacket(client, packet));
  }

  override async incomingDelPacket(client: Client, packet: AedesPacket): Promise<void> {
    await super.incomingDelPacket(client, packet);
    this.#incoming.get(client.id)?.delete(packet.messageId as number);
    await this.#delete(keyOf(INCOMING, client.id, packet.messageId as number));
  }

  override async cleanIncoming(client: Client): Promise<void> {
    await super.cleanIncoming(client);
    const ids = this.#incoming.get(client.id);
    if (!ids) return;
    this.#incoming.delete(client.id);
    await Promise.all([...ids].map((id) => this.#delete(keyOf(INCOMING, client.id, id))));
  }

  override async putWill(client: Client, packet: AedesPacket): Promise<void> {
    await super.putWill(client, packet);
    await this.#set(keyOf(WILL, client.id), packet);
  }

  override async delWill(client: Client): Promise<AedesPacket | undefined> {
    const will = await super.delWill(client);
    if (will) await this.#delete(keyOf(WILL, client.id));
    return will;
  }

  override async destroy(): Promise<void> {
    this.#logAllCleared();
    await this.#log?.close();
    await super.destroy();
  }

  #set(key: string, value: object): Promise<void> {
    this.#live.set(key, value);
    return this.#append(valueRecord(key, value));
  }

  #delete(key: string): Promise<void> {
    if (!this.#live.delete(key)) return Promise.resolve();
    return this.#append(deleteRecord(key));
  }

  #append(record: Buffer): Promise<void> {
    return (this.#log as WriteAheadLog).append(record);
  }

  async #saveSubscriptions(clientId: string): Promise<void> {
    const subs = await super.subscriptionsByClient({ id: clientId } as Client);
    const key = keyOf(SUBSCRIPTIONS, clientId);
    await (subs.length === 0 ? this.#delete(key) : this.#set(key, subs));
  }

  *#snapshot(): Iterable<Buffer> {
    for (const [key, value] of this.#live) yield valueRecord(key, value);
    for (const [clientId, queue] of this.outgoingQueues()) {
      for (const [seq, packet] of queue.placed()) yield valueRecord(outgoingKey(clientId, seq), packet);
    }
  }

  /** Loads what the log held into the in-memory store, through its own methods, writing nothing back. */
  async #restore(records: LiveRecords): Promise<void> {
    for (const [key, encoded] of records) {
      const [kind, name = '', place = ''] = key.split(SEP);
      const client = { id: name } as Client;
      if (kind === RETAINED) {
        const packet = decodeValue<AedesPacket>(encoded);
        await super.storeRetained(packet);
        this.#live.set(key, packet);
      } else if (kind === SUBSCRIPTIONS) {
        const subs = decodeValue<Subscription[]>(encoded);
        await super.addSubscriptions(client, subs);
        this.#live.set(key, subs);
      } else if (kind === WILL) {
        const will = decodeValue<AedesPacket>(encoded);
        const brokerId = will.brokerId;
        await super.putWill(client, will);
        // The will is this store's object: putting it back stamped it with the new broker, but it is the old one's,
        // and aedes publishes the wills of brokers that are gone.
        will.brokerId = brokerId;
        this.#live.set(key, will);
      } else if (kind === INCOMING) {
        const packet = decodeValue<AedesPacket>(encoded);
        await super.incomingStorePacket(client, packet);
        const ids = this.#incoming.get(name) ?? new Set<number>();
        this.#incoming.set(name, ids.add(Number(place)));
        this.#live.set(key, await super.incomingGetPacket(client, packet));
      } else if (kind === OUTGOING) {
        const packet = decodeValue<AedesPacket>(encoded);
        this.outgoingQueue(name).restore(Number(place), packet);
      }
    }
  }
}
