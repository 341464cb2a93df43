/**
 * The api's live WebSocket, kept open: on a drop it reconnects by itself with exponential back-off and
 * jitter (1 s doubling to 30 s), and each new connection starts with a snapshot that replaces what the
 * console held, so nothing missed while away stays wrong.
 */
import type { StreamMessage } from '../api/types.js';
import { workerSocket } from './worker-socket.js';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/** What the stream uses of a WebSocket. */
export interface StreamSocket {
  onmessage: ((event: MessageEvent) => void) | null;
  onclose: ((event: CloseEvent) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface StreamOptions {
  url: () => string;
  onMessage: (message: StreamMessage) => void;
  onState: (state: ConnectionState, retryInMs?: number) => void;
  /** Asked before each reconnect: false stops trying (the session ended). */
  stillAuthorised?: () => Promise<boolean>;
  /** The socket to the api; by default one read in a worker (worker-socket.ts). */
  createSocket?: (url: string) => StreamSocket;
  random?: () => number;
}

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 30_000;

export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** attempt);
  // Full jitter in the upper half: a wall of consoles restarted together does not reconnect in step.
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class LiveStream {
  private socket: StreamSocket | undefined;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(private readonly options: StreamOptions) {}

  start(): void {
    this.stopped = false;
    this.connect('connecting');
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.socket?.close(1000, 'console closed');
    this.socket = undefined;
    this.options.onState('closed');
  }

  private connect(state: ConnectionState): void {
    this.options.onState(state);
    const socket = (this.options.createSocket ?? workerSocket)(this.options.url());
    this.socket = socket;
    socket.onmessage = (event) => {
      let message: StreamMessage;
      try {
        message = JSON.parse(String(event.data)) as StreamMessage;
      } catch {
        return;
      }
      if (message.type === 'snapshot') {
        this.attempt = 0;
        this.options.onState('live');
      }
      this.options.onMessage(message);
    };
    socket.onclose = () => {
      if (this.socket !== socket || this.stopped) return;
      this.socket = undefined;
      void this.retry();
    };
  }

  private async retry(): Promise<void> {
    const delay = backoffDelay(this.attempt, this.options.random);
    this.attempt += 1;
    this.options.onState('reconnecting', delay);
    this.timer = setTimeout(async () => {
      if (this.stopped) return;
      if (this.options.stillAuthorised && !(await this.options.stillAuthorised().catch(() => true))) {
        this.stop();
        return;
      }
      if (!this.stopped) this.connect('reconnecting');
    }, delay);
  }
}
