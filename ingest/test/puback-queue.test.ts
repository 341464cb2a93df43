import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PubackQueue } from '../src/puback-queue.js';

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const close of cleanup.splice(0)) close();
});

/** A real TCP connection: the client side, and every chunk the server side reads from it. */
async function connection(): Promise<{ socket: Socket; reads: Buffer[] }> {
  const reads: Buffer[] = [];
  const server = createServer((accepted) => accepted.on('data', (chunk: Buffer) => reads.push(chunk)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = createConnection({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  await once(socket, 'connect');
  cleanup.push(() => {
    socket.destroy();
    server.close();
  });
  return { socket, reads };
}

describe('the PUBACK queue', () => {
  it('writes the PUBACKs acknowledged in one go together, in order, once that code has run', async () => {
    const { socket, reads } = await connection();
    const writes: number[] = [];
    const write = socket.write.bind(socket);
    socket.write = ((data: Buffer) => {
      writes.push(data.length);
      return write(data);
    }) as typeof socket.write;
    const queue = new PubackQueue(socket);
    for (const id of [1, 2, 300, 65_535]) queue.add(id);
    expect(writes).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes).toEqual([16]);
    expect(Buffer.concat(reads)).toEqual(Buffer.from([0x40, 2, 0, 1, 0x40, 2, 0, 2, 0x40, 2, 1, 44, 0x40, 2, 0xff, 0xff]));
  });

  it('drops what is queued on a connection that has gone: the broker redelivers those messages', async () => {
    const { socket } = await connection();
    const queue = new PubackQueue(socket);
    queue.add(7);
    socket.destroy();
    expect(queue.usable).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(socket.bytesWritten).toBe(0);
  });
});
