/**
 * A QoS 1 PUBACK only once the message is stored. aedes 1.2 (lib/handlers/publish.js, `case 1`) writes the PUBACK
 * first and only then calls `broker.publish`, whose pipeline (storeRetained → enqueueOffline, i.e. the store's
 * outgoingEnqueueCombi for every persistent subscriber such as ingest → emitPacket) is what stores it: a broker
 * killed between the two has acknowledged a reading it never kept, and the device will not send it again.
 *
 * aedes asks `authorizePublish` before either step, so the message is published there, once authorized, and the
 * handler's own `broker.publish` of that very packet, after its PUBACK, does nothing. A failed store fails the
 * authorization: no PUBACK, the connection closes, and the device sends the message again.
 */
import type { Aedes, AuthorizePublishHandler, Client, PublishPacket } from 'aedes';

type PublishDone = (error?: Error | null) => void;
type Publish = (packet: PublishPacket, client?: Client | null | PublishDone, done?: PublishDone) => void;

export function acknowledgeAfterStoring(broker: Aedes): void {
  const published = new WeakSet<PublishPacket>();
  const authorize = broker.authorizePublish as AuthorizePublishHandler;
  const publish = broker.publish.bind(broker) as Publish;

  broker.authorizePublish = function authorizeThenStore(client, packet, done) {
    authorize.call(this, client, packet, (error) => {
      if (error || !client || packet.qos !== 1) return done(error);
      publish(packet, client, (publishError) => {
        if (publishError) return done(publishError);
        published.add(packet);
        done(null);
      });
    });
  };

  (broker as { publish: Publish }).publish = (packet, client, done) => {
    if (published.delete(packet)) return (typeof client === 'function' ? client : done)?.(null);
    return publish(packet, client, done);
  };
}
