/**
 * A console-like client of the api's WebSocket stream that reconnects when the api goes away, as the console
 * does, and records every snapshot it is sent: after an api restart, a client that came back has a new one.
 */
import { WebSocket } from 'ws';

export interface Snapshot {
  receivedAt: number;
  devices: { id: string; presence?: string; reading?: unknown }[];
  incidents: { id: string }[];
}

export interface StreamWatcher {
  snapshots: Snapshot[];
  /** Connections opened, the first included. */
  readonly connections: number;
  close(): void;
}

const RETRY_MS = 500;

export function watchStream(url: string, token: () => Promise<string>): StreamWatcher {
  const snapshots: Snapshot[] = [];
  let connections = 0;
  let closed = false;
  let socket: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;

  const open = async () => {
    if (closed) return;
    const current = new WebSocket(`${url}?access_token=${encodeURIComponent(await token().catch(() => ''))}`);
    socket = current;
    current.on('open', () => connections++);
    current.on('message', (data) => {
      const message = JSON.parse(String(data)) as { type: string } & Omit<Snapshot, 'receivedAt'>;
      if (message.type === 'snapshot') snapshots.push({ receivedAt: Date.now(), devices: message.devices, incidents: message.incidents });
    });
    current.on('error', () => undefined);
    current.on('close', () => {
      if (!closed) retry = setTimeout(() => void open(), RETRY_MS);
    });
  };
  void open();

  return {
    snapshots,
    get connections() {
      return connections;
    },
    close() {
      closed = true;
      clearTimeout(retry);
      socket?.terminate();
    },
  };
}
