/**
 * The lean path for a device's PUBLISH, through the broker as it runs (durable store, registry, ACL, rate limits),
 * over raw TCP so that the test decides how packets share the socket's reads.
 */
import { connect as connectTcp, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { DeviceRegistry } from '@city/devices';
import { waitFor } from '@city/platform';
import { readMetric, tempDir } from '@city/platform/testing';
import type { RunningBroker } from '../src/server.js';
import { startTestBroker } from './fixtures/test-broker.js';

const SERVICE_SECRET = 'test-service-secret-0123456789';
const dir = tempDir('city-broker-lean-');
let registry: DeviceRegistry;
let running: RunningBroker;
let url: string;

beforeAll(async () => {
  registry = DeviceRegistry.open(join(dir.path, 'registry.db'));
  running = await startTestBroker(dir.path, { MQTT_SERVICE_SECRET: SERVICE_SECRET, DEVICE_RATE_LIMIT: '1', DEVICE_RATE_BURST: '400', MAX_ACL_VIOLATIONS: '2' });
  url = `mqtt://127.0.0.1:${running.mqttPort}`;
});

afterAll(async () => {
  await running?.close();
  registry?.close();
  dir.cleanup();
});

const metric = async (name: string, labels: Record<string, string> = {}) => {
  const value = await readMetric(running.metricsPort, name, labels);
  return Number.isNaN(value) ? 0 : value;
};

/** A persistent subscriber like ingest, collecting what it receives. */
async function consumer(name: string) {
  const client = await mqtt.connectAsync(url, { clientId: name, username: name, password: SERVICE_SECRET, clean: false, reconnectPeriod: 0 });
  const received: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (messageTopic, payload, packet) => received.push({ topic: messageTopic, payload: payload.toString(), retain: packet.retain }));
  await client.subscribeAsync('devices/+/telemetry', { qos: 1 });
  return { client, received };
}

/** A device on a raw socket: what it writes in one call arrives in one read; the packets it gets back, parsed. */
async function rawDevice(id: string, keepalive = 30) {
  const added = await registry.add({ id, kind: 'traffic', lon: 108.2208, lat: 16.0544 });
  const socket: Socket = connectTcp(running.mqttPort, '127.0.0.1');
  socket.setNoDelay(true);
  const received: mqttPacket.Packet[] = [];
  const parser = mqttPacket.parser();
  parser.on('packet', (packet) => received.push(packet));
  socket.on('data', (chunk) => parser.parse(chunk));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: id, clean: true, keepalive, username: id, password: Buffer.from(added.secret) }));
  await waitFor('the CONNACK', () => received.some((packet) => packet.cmd === 'connack'));
  return { socket, received, closed, topic: `devices/${id}/telemetry` };
}

const publish = (topic: string, n: number, fields: Partial<mqttPacket.IPublishPacket> = {}) =>
  mqttPacket.generate({ cmd: 'publish', topic, payload: Buffer.from(JSON.stringify({ n })), qos: 1, messageId: n, retain: false, dup: false, ...fields } as mqttPacket.IPublishPacket);

const acknowledged = (received: mqttPacket.Packet[]) => received.filter((packet) => packet.cmd === 'puback').map((packet) => (packet as mqttPacket.IPubackPacket).messageId);

describe('the lean publish path', () => {
  it('stores, acknowledges and delivers in order what devices send several packets to a read, split across reads, or mixed with other packets', async () => {
    const { client, received } = await consumer('service:ingest-lean-1');
    const device = await rawDevice('dn-traffic-lean-1');
    const inBefore = await metric('mqtt_messages_in_total');
    // Ten to a read; then one cut in the middle of its payload; then a QoS 0, a PINGREQ, one more and a retained one
    // in a read (the last two through aedes, after the PINGREQ).
    device.socket.write(Buffer.concat(Array.from({ length: 10 }, (_, i) => publish(device.topic, i + 1))));
    await waitFor('the first ten acknowledged', () => acknowledged(device.received).length === 10);
    const split = publish(device.topic, 11);
    device.socket.write(split.subarray(0, split.length - 3));
    await waitFor('the split PUBLISH not yet acknowledged', () => acknowledged(device.received).length === 10);
    device.socket.write(Buffer.concat([split.subarray(split.length - 3), publish(device.topic, 12)]));
    device.socket.write(
      Buffer.concat([
        publish(device.topic, 13, { qos: 0, messageId: undefined }),
        mqttPacket.generate({ cmd: 'pingreq' }),
        publish(device.topic, 14),
        publish(device.topic, 15, { retain: true }),
      ]),
    );
    await waitFor('every message delivered', () => received.length === 15);
    // QoS 0 is not stored, so it may overtake the QoS 1 messages still being stored.
    expect(received.filter((message) => message.payload !== '{"n":13}').map((message) => JSON.parse(message.payload).n)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]);
    expect(received.find((message) => message.payload === '{"n":15}')?.retain).toBe(false);
    await waitFor('every QoS 1 message acknowledged', () => acknowledged(device.received).length === 14);
    expect(acknowledged(device.received)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]);
    expect(device.received.some((packet) => packet.cmd === 'pingresp')).toBe(true);
    expect(await metric('mqtt_messages_in_total')).toBe(inBefore + 15);
    // The consumer's PUBACKs cleared its queue: back in its session, it gets only what comes next.
    await client.endAsync();
    const again = await consumer('service:ingest-lean-1');
    device.socket.write(publish(device.topic, 16));
    await waitFor('the next message delivered', () => again.received.some((message) => message.payload === '{"n":16}'));
    expect(again.received.filter((message) => !message.retain).map((message) => message.payload)).toEqual(['{"n":16}']);
    device.socket.destroy();
    await again.client.endAsync();
  });

  it('keeps a device that only publishes connected past its keep-alive', async () => {
    const device = await rawDevice('dn-traffic-lean-2', 1);
    // aedes cuts a client silent for 1.5 keep-alives: publishes alone must count as signs of life.
    for (let n = 1; n <= 12; n++) {
      device.socket.write(publish(device.topic, n));
      await waitFor(`PUBACK ${n}`, () => acknowledged(device.received).length === n);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    expect(device.socket.destroyed).toBe(false);
    device.socket.destroy();
  });

  it('drops a publish outside the device\'s topics, reports it, and disconnects a device that keeps trying', async () => {
    const { client, received } = await consumer('service:ingest-lean-3');
    const device = await rawDevice('dn-traffic-lean-3');
    const refusedBefore = await metric('mqtt_rejections_total', { reason: 'acl_publish' });
    device.socket.write(Buffer.concat([publish('devices/dn-other/telemetry', 1), publish(device.topic, 2)]));
    await waitFor('both acknowledged', () => acknowledged(device.received).length === 2);
    // Test one's retained message comes first to a new subscription.
    const live = () => received.filter((message) => !message.retain);
    await waitFor('the allowed one delivered', () => live().length === 1);
    expect(live()[0]?.topic).toBe(device.topic);
    expect(await metric('mqtt_rejections_total', { reason: 'acl_publish' })).toBe(refusedBefore + 1);
    device.socket.write(Buffer.concat([3, 4, 5].map((n) => publish('devices/dn-other/telemetry', n))));
    await device.closed;
    expect(await metric('mqtt_rejections_total', { reason: 'disconnected_for_violations' })).toBeGreaterThanOrEqual(1);
    await client.endAsync();
  });

  it('clears from a subscriber\'s session exactly the messages it acknowledged, by the identifiers they were sent with', async () => {
    const name = 'service:ingest-lean-6';
    const device = await rawDevice('dn-traffic-lean-6');
    // A consumer on a raw socket, to choose what it acknowledges; its session outlives the connection.
    const rawConsumer = async () => {
      const socket: Socket = connectTcp(running.mqttPort, '127.0.0.1');
      const received: mqttPacket.IPublishPacket[] = [];
      const others: string[] = [];
      const parser = mqttPacket.parser();
      parser.on('packet', (packet) => {
        if (packet.cmd === 'publish' && packet.topic === device.topic) received.push(packet);
        else others.push(packet.cmd);
      });
      socket.on('data', (chunk) => parser.parse(chunk));
      await new Promise((resolve) => socket.once('connect', resolve));
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: name, clean: false, keepalive: 30, username: name, password: Buffer.from(SERVICE_SECRET) }));
      socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'devices/+/telemetry', qos: 1 }] }));
      await waitFor('the SUBACK', () => others.includes('suback'));
      return { socket, received, others };
    };
    const first = await rawConsumer();
    device.socket.write(Buffer.concat([1, 2, 3, 4, 5, 6].map((n) => publish(device.topic, n))));
    await waitFor('six delivered', () => first.received.length === 6);
    const sent = first.received.map((packet) => ({ n: JSON.parse(packet.payload.toString()).n as number, messageId: packet.messageId as number }));
    expect(sent.map((message) => message.n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(new Set(sent.map((message) => message.messageId)).size).toBe(6);
    // Acknowledged out of order, and only the odd ones; the PINGRESP tells that the broker has read the PUBACKs before it.
    const pubacks = [sent[4], sent[0], sent[2]].map((message) => mqttPacket.generate({ cmd: 'puback', messageId: message?.messageId as number }));
    first.socket.write(Buffer.concat([...pubacks, mqttPacket.generate({ cmd: 'pingreq' })]));
    await waitFor('the PINGRESP', () => first.others.includes('pingresp'));
    first.socket.destroy();
    await waitFor('the session offline', () => !(running.broker as unknown as { clients: Record<string, unknown> }).clients[name]);
    const again = await rawConsumer();
    await waitFor('the unacknowledged ones again', () => again.received.length === 3);
    expect(again.received.map((packet) => JSON.parse(packet.payload.toString()).n)).toEqual([2, 4, 6]);
    again.socket.destroy();
    device.socket.destroy();
  });

  it('rejects and counts a malformed PUBLISH without disturbing the broker', async () => {
    const device = await rawDevice('dn-traffic-lean-4');
    // A topic announced longer than the packet: left to mqtt-packet, which refuses it.
    device.socket.write(Buffer.from([0x32, 0x06, 0x00, 0x40, 0x61, 0x62, 0x00, 0x01]));
    await device.closed;
    const healthy = await rawDevice('dn-traffic-lean-5');
    healthy.socket.write(publish(healthy.topic, 1));
    await waitFor('a healthy device still acknowledged', () => acknowledged(healthy.received).length === 1);
    healthy.socket.destroy();
  });
});
