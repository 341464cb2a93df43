/**
 * A WebSocket read off the main thread. The snapshot of a city (10,000 devices: about 3 MB of JSON) arrives in
 * pieces, each read by the thread that owns the socket; on the main thread each piece waited for the map's frame
 * in progress (0.1–0.2 s each in software WebGL), and a first map waited seconds for its snapshot. A worker
 * reads them as they come and posts the message whole; parsing stays on the main thread, as it was.
 */
import type { StreamSocket } from './stream.js';
// Inline (a blob): a worker fetched from the api would open the socket only once the api had answered for its
// script, behind the layer requests it is busy with.
import SocketWorker from './socket-worker.ts?worker&inline';

export type WorkerCommand = { type: 'open'; url: string } | { type: 'close'; code?: number; reason?: string };
export type WorkerEvent = { type: 'message'; data: string } | { type: 'close' };

export function workerSocket(url: string): StreamSocket {
  const worker = new SocketWorker();
  const socket: StreamSocket = {
    onmessage: null,
    onclose: null,
    close(code, reason) {
      worker.postMessage({ type: 'close', code, reason } satisfies WorkerCommand);
    },
  };
  worker.onmessage = ({ data: event }: MessageEvent<WorkerEvent>) => {
    if (event.type === 'message') {
      socket.onmessage?.(new MessageEvent('message', { data: event.data }));
      return;
    }
    worker.terminate();
    socket.onclose?.(new CloseEvent('close'));
  };
  // A worker that cannot start (a blocked script) is a connection that closed: the stream retries.
  worker.onerror = () => {
    worker.terminate();
    socket.onclose?.(new CloseEvent('close'));
  };
  worker.postMessage({ type: 'open', url } satisfies WorkerCommand);
  return socket;
}
