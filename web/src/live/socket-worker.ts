/**
 * The live WebSocket, held in a worker (see worker-socket.ts): it reads the socket on a thread that the map's
 * frames do not hold up, and hands each message on whole.
 */
import type { WorkerCommand, WorkerEvent } from './worker-socket.js';

const scope = self as unknown as { onmessage: ((event: MessageEvent<WorkerCommand>) => void) | null; postMessage(event: WorkerEvent): void; close(): void };
let socket: WebSocket | undefined;

scope.onmessage = ({ data: command }) => {
  if (command.type === 'open') {
    socket = new WebSocket(command.url);
    socket.onmessage = (event) => scope.postMessage({ type: 'message', data: String(event.data) });
    socket.onclose = () => {
      scope.postMessage({ type: 'close' });
      scope.close();
    };
    return;
  }
  socket?.close(command.code, command.reason);
};
