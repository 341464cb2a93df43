/**
 * Simulated time. At `speed` > 1 the city's clock runs ahead of the wall clock from a start in the past
 * (a day ago by default), so that a demo plays a whole day in minutes; once it has caught up with the
 * present it runs at real speed, because a reading may never carry a time in the future.
 */
export class SimClock {
  private readonly startReal = Date.now();

  constructor(
    readonly speed: number,
    private readonly startSim: number,
    private readonly realNow: () => number = Date.now,
  ) {}

  now(): number {
    const real = this.realNow();
    return Math.min(real, this.startSim + (real - this.startReal) * this.speed);
  }

  /** Real milliseconds until simulated time has advanced by `simMs` (never less than real time allows). */
  realDelay(simMs: number): number {
    return this.now() >= this.realNow() - 1000 ? simMs : simMs / this.speed;
  }
}
