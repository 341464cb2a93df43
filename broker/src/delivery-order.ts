/**
 * aedes numbers a message (its brokerCounter) as it starts to publish it, and a client is not given a message numbered
 * below the last one it got from the same broker (lib/client.js, `dedupe`): a guard for a cluster whose buses could
 * hand it one message twice. But messages reach this broker's bus once they are stored, not in the order they were
 * numbered: a QoS 0 message, stored nowhere, overtakes the QoS 1 messages being written to the log, and a retained one
 * waits for two writes. A persistent subscriber such as ingest then silently missed messages the broker had
 * acknowledged and stored, until it reconnected. This broker runs alone, with one bus: its own messages are not
 * compared. A client whose subscriptions overlap gets a copy per matching subscription, as MQTT 3.1.1 allows
 * [MQTT-3.3.5-1].
 */
import type { Aedes, Client } from 'aedes';

export function deliverInAnyOrder(broker: Aedes, client: Client): void {
  const duplicates = (client as unknown as { duplicates: Record<string, number> }).duplicates;
  Object.defineProperty(duplicates, broker.id, { get: () => 0, set: () => undefined, configurable: true });
}
