/**
 * The bench's consumer, subscribed the way ingest is: a persistent session (clean = false) with one QoS 1
 * subscription to every device's telemetry. It acknowledges each message as it arrives (ingest acknowledges
 * after its batch is stored; here the broker's side is what is measured) and counts them.
 */
import { createConnection, type Socket } from 'node:net';
import { PACKET, PacketReader, decodePublish } from '@city/platform';
import { pubackPacket } from '@city/platform';
import { PINGREQ, connectPacket, subscribePacket } from '@city/simulators/src/load/wire.js';

export interface Subscriber {
  readonly received: number;
  close(): void;
}

export function subscribe(options: { host: string; port: number; clientId: string; username: string; password: string; topic: string }): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket: Socket = createConnection({ host: options.host, port: options.port });
    socket.setNoDelay(true);
    const subscriber: Subscriber = {
      get received() {
        return received;
      },
      close: () => socket.destroy(),
    };
    const reader = new PacketReader((type, body, flags) => {
      if (type === PACKET.publish) {
        received++;
        const { messageId } = decodePublish(body, flags);
        if (messageId !== undefined) socket.write(pubackPacket(messageId));
      } else if (type === PACKET.connack) {
        if (body[1] !== 0) return reject(new Error(`the broker refused the subscriber (CONNACK ${body[1]})`));
        socket.write(subscribePacket(1, options.topic, 1));
      } else if (type === PACKET.suback) {
        if (body[2] === 0x80) return reject(new Error(`the broker refused the subscription to ${options.topic}`));
        resolve(subscriber);
      }
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
    socket.once('error', reject);
    socket.once('connect', () =>
      socket.write(connectPacket({ clientId: options.clientId, username: options.username, password: options.password, clean: false, keepaliveS: 60 })),
    );
    setInterval(() => socket.writable && socket.write(PINGREQ), 30_000).unref();
  });
}
