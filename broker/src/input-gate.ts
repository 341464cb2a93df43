/**
 * Holds back what clients send while the broker's message bus is far behind on its deliveries. aedes reads a client's
 * next packet without waiting for the last to be delivered, and every event-loop turn reads every socket with data,
 * while the bus starts at most its concurrency of deliveries a turn: under fan-in the reading won, the bus's queue grew
 * by tens of thousands of messages (garbage that lives long enough to be costly), and a consumer such as ingest got
 * almost nothing until the devices stopped. Mosquitto delivers a message as it reads it; this gets close to that.
 */
export class InputGate {
  private waiting: (() => void)[] = [];

  /** `backlog` is the bus's queue length; the gate closes at `limit` and opens again under half of it. */
  constructor(
    private readonly backlog: () => number,
    private readonly limit: number,
  ) {}

  get closed(): boolean {
    return this.backlog() >= this.limit;
  }

  /** Calls `resume` once the backlog has come down. */
  wait(resume: () => void): void {
    if (this.waiting.push(resume) === 1) setTimeout(this.check, 1);
  }

  private readonly check = (): void => {
    if (this.backlog() > this.limit / 2) {
      setTimeout(this.check, 1);
      return;
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const resume of waiting) resume();
  };
}
