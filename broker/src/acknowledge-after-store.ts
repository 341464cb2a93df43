/**
 * A QoS 1 PUBACK only once the message is stored. aedes 1.2 (lib/handlers/publish.js, `case 1`) writes the PUBACK
 * first and only then calls `broker.publish`, whose pipeline (storeRetained → enqueueOffline, i.e. the store's
 * outgoingEnqueueCombi for every persistent subscriber such as ingest → emitPacket) is what stores it: a broker
 * killed between the two has acknowledged a reading it never kept, and the device will not send it again.
 *
 * aedes asks `authorizePublish` before either step, so the message is published there, once authorized, and the
 * handler's own `broker.publish` of that very packet, after its PUBACK, does nothing. A failed store fails the
 * authorization: no PUBACK, the connection closes, and the device sends the message again.
 *
 * The PUBACK goes once the pipeline reaches emitPacket (everything before it has stored the message), not once every
 * subscriber has been written to: deliveries wait for a slot of aedes' bounded message bus, and under fan-in that
 * queue is seconds long, which devices saw as seconds without an acknowledgement and so sent less.
 */
import type { Aedes, AuthorizePublishHandler, Client, PublishPacket } from 'aedes';

type PublishDone = (error?: Error | null) => void;
type Publish = (packet: PublishPacket, client?: Client | null | PublishDone, done?: PublishDone) => void;
/** What aedes' pipeline hands its message bus: its own copy of the packet, numbered by the broker's counter. */
type BusMessage = { brokerCounter?: number };
type Emit = (message: BusMessage, done?: PublishDone) => unknown;

export interface StoringPublishes {
  /** Whether a QoS 1 PUBLISH of the client's is still being stored (lean-publish.ts waits for it, to keep the client's order). */
  storing(client: Client): boolean;
}

export function acknowledgeAfterStoring(broker: Aedes): StoringPublishes {
  const published = new WeakSet<PublishPacket>();
  const storing = new WeakMap<Client, number>();
  const authorize = broker.authorizePublish as AuthorizePublishHandler;
  const publish = broker.publish.bind(broker) as Publish;
  const counted = broker as unknown as { counter: number };
  /** The messages being stored, by the number aedes gave its copy; called as the copy reaches the bus. */
  const stored = new Map<number, () => void>();
  const bus = (broker as unknown as { mq: { emit: Emit } }).mq;
  const emit = bus.emit.bind(bus);
  bus.emit = (message, done) => {
    const counter = message.brokerCounter;
    const onStored = counter === undefined ? undefined : stored.get(counter);
    if (onStored) {
      stored.delete(counter as number);
      onStored();
    }
    return emit(message, done);
  };

  broker.authorizePublish = function authorizeThenStore(client, packet, done) {
    authorize.call(this, client, packet, (error) => {
      if (error || !client || packet.qos !== 1) return done(error);
      let answered = false;
      storing.set(client, (storing.get(client) ?? 0) + 1);
      const answer = (publishError?: Error | null) => {
        if (answered) return;
        answered = true;
        storing.set(client, (storing.get(client) as number) - 1);
        if (publishError) return done(publishError);
        published.add(packet);
        done(null);
      };
      // aedes numbers its copy of the packet synchronously, as publish starts.
      const counter = counted.counter + 1;
      stored.set(counter, () => answer(null));
      publish(packet, client, (publishError) => {
        stored.delete(counter);
        answer(publishError);
      });
    });
  };

  (broker as { publish: Publish }).publish = (packet, client, done) => {
    if (published.delete(packet)) return (typeof client === 'function' ? client : done)?.(null);
    return publish(packet, client, done);
  };
  return { storing: (client) => (storing.get(client) ?? 0) > 0 };
}
