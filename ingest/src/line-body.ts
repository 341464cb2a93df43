/**
 * A batch of line protocol as the bytes POSTed to InfluxDB: lines separated by `\n`, UTF-8. Ingest writes each
 * line into its batch's buffer as it is built, so that the line's string dies at once instead of living, with
 * thousands of others, until the batch is durable (the GC copied them from space to space), and the batch is
 * sent without being joined and encoded again. Callers with lines at hand (replay, tools, tests) pass them as an array.
 */
export type LineBatch = Buffer | readonly string[];

/** The body to POST or spool. */
export function bodyOf(batch: LineBatch): Buffer {
  return Buffer.isBuffer(batch) ? batch : Buffer.from(batch.join('\n'));
}

/** The lines themselves, for the rare paths that read them one by one. */
export function linesOf(batch: LineBatch): readonly string[] {
  if (!Buffer.isBuffer(batch)) return batch;
  return batch.length === 0 ? [] : batch.toString('utf8').split('\n');
}

const NEWLINE = 0x0a;
/** A UTF-16 code unit takes at most 3 bytes in UTF-8. */
const MAX_BYTES_PER_UNIT = 3;

/** Lines written into one growing buffer. */
export class LineBuffer {
  private bytes: Buffer;
  private used = 0;
  /** Lines written. */
  count = 0;

  constructor(initialBytes: number) {
    this.bytes = Buffer.allocUnsafe(Math.max(64, initialBytes));
  }

  add(line: string): void {
    const room = line.length * MAX_BYTES_PER_UNIT + 1;
    if (this.bytes.length - this.used < room) this.grow(room);
    this.used += this.bytes.write(line, this.used);
    this.bytes[this.used++] = NEWLINE;
    this.count++;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.used;
  }

  /**
   * The lines written, without the last newline. A buffer mostly unused is given back first: batches sealed by
   * their age while acknowledgements are held (a full spool) may wait by the hundred.
   */
  body(): Buffer {
    if (this.used < this.bytes.length / 2) this.bytes = Buffer.from(this.bytes.subarray(0, this.used));
    return this.bytes.subarray(0, Math.max(0, this.used - 1));
  }

  private grow(room: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, this.used + room));
    this.bytes.copy(bigger, 0, 0, this.used);
    this.bytes = bigger;
  }
}
