/**
 * The other half of a fan-in: each QoS 1 message delivered to a connected subscriber such as ingest. aedes' path
 * (lib/client.js, `deliverQoS`) costs every message a turn of the event loop before it is written, a second copy of
 * the packet with a bound callback, a promise of the store's outgoingUpdate, mqtt-packet writing the PUBLISH piece
 * by piece, and another turn before the bus may start the next message. Here the message is numbered as aedes
 * numbers it (the client's `_nextId`), recorded in the in-process store as sent with that identifier, so that the
 * subscriber's PUBACK clears it, and written as one frame into the socket's batch (packet-size-guard.ts), encoded there.
 *
 * The bus's slot is freed as soon as the frame is taken, or, when the socket is over its bound, once it drains:
 * aedes' own wait, with its drain timeout, so a subscriber that stops reading still holds the bus back and is cut.
 *
 * Anything else goes to aedes unchanged: QoS 0 or a subscription granted QoS 0, retained messages (a new
 * subscription's), MQTT 5, messages with no-local, from another broker or re-addressed by authorizeForward, and any
 * message while the client is not connected. So that a subscriber gets its messages in the order the bus hands them
 * over, none is written here while one of the client's messages is still on aedes' path, which writes a turn later.
 *
 * This relies on aedes internals that its types do not show: the client's `deliverQoS` (which a subscription takes
 * when it is made), `_nextId`, `subscriptions`, `waitForDrain`, and its state flags.
 */
import type { Socket } from 'node:net';
import type { Aedes, Client, PublishPacket } from 'aedes';
import type { IndexedMemoryPersistence } from './memory-persistence.js';
import type { HeldFrame } from './packet-size-guard.js';
import { PublishFrameWriter } from './publish-frame.js';

type Deliver = (packet: DeliveredPacket, done: () => void) => void;

type DeliveredPacket = PublishPacket & { brokerId: string; brokerCounter: number; nl?: boolean };

interface DeliveringClient extends Omit<Client, 'version'> {
  deliverQoS: Deliver;
  conn: Socket;
  connected: boolean;
  closed: boolean;
  errored: boolean;
  clean: boolean;
  version: number | null;
  _nextId: number;
  subscriptions: Record<string, { qos?: number } | undefined>;
  waitForDrain(callback: (error?: Error | null) => void): void;
}

const MAX_MESSAGE_ID = 65_535;

/**
 * Wraps the client's QoS delivery: to be called as aedes makes the client, before it can subscribe. `writeFrame` is
 * the guarded connection's (packet-size-guard.ts).
 */
export function deliverLean(broker: Aedes, client: Client, store: IndexedMemoryPersistence, writeFrame: (frame: HeldFrame) => boolean): void {
  const internals = client as unknown as DeliveringClient;
  const deliverThroughAedes = internals.deliverQoS;
  /** The client's messages handed to aedes' path and not yet written. */
  let inAedes = 0;
  const throughAedes: Deliver = (packet, done) => {
    inAedes++;
    deliverThroughAedes(packet, () => {
      inAedes--;
      done();
    });
  };

  internals.deliverQoS = (packet, done) => {
    if (
      inAedes > 0 ||
      packet.qos !== 1 ||
      packet.retain ||
      packet.nl ||
      packet.properties !== undefined ||
      packet.brokerId !== broker.id ||
      !Buffer.isBuffer(packet.payload) ||
      !internals.connected ||
      internals.closed ||
      internals.errored ||
      (internals.version !== 3 && internals.version !== 4) ||
      (internals.subscriptions[packet.topic]?.qos ?? 1) < 1
    ) {
      return throughAedes(packet, done);
    }
    // A message authorizeForward keeps back or changes is left to aedes, which asks it again: it counts only what it passes.
    if (broker.authorizeForward(client, packet) !== packet) return throughAedes(packet, done);
    const messageId = packet.messageId || nextId(internals);
    if (!internals.clean && !store.outgoingSent(client.id, packet.brokerId, packet.brokerCounter, messageId)) return throughAedes(packet, done);
    const flowing = writeFrame(new PublishFrameWriter(packet.topic, Buffer.byteLength(packet.topic), packet.payload, messageId, packet.dup));
    if (flowing) return done();
    internals.waitForDrain((error) => {
      if (error) client.emit('error', error);
      done();
    });
  };
}

/** The client's next packet identifier, as aedes' QoSPacket takes it. */
function nextId(client: DeliveringClient): number {
  const id = client._nextId;
  client._nextId = id >= MAX_MESSAGE_ID ? 1 : id + 1;
  return id;
}
