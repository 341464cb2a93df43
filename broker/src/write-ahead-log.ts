/**
 * An append-only log of keyed records (set a key to a value, or delete it) with group commit: the records appended
 * during one turn of the event loop, and all those appended while a commit is on its way to the disk, go out in one
 * synchronized write, and only then do their promises resolve. A store that waits on that promise before it
 * answers has its change on the disk, so a SIGKILL or a power cut right after loses nothing it answered for.
 *
 * Each record is framed as [body length u32][crc32 of body u32][body], the body [op u8][key length u16][key][value];
 * a crash mid-write leaves a short or corrupt last record, which opening the log drops. A range delete's key is a
 * prefix and its value [first u48][last u48]: it deletes the keys prefix + n for every n from first to last, which is
 * how a consumer's acknowledgements, arriving in the order its messages were queued, cost one record a run. Opening
 * also compacts: the file is rewritten with the live records only, and so is it whenever it has grown far past what
 * is live.
 */
import { constants } from 'node:fs';
import { mkdir, open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

const HEADER_BYTES = 8;
const SET = 1;
const DELETE = 2;
const DELETE_RANGE = 3;
const RANGE_VALUE_BYTES = 12;
/** The log is compacted once it is past this size and several times what was live at the last compaction. */
const COMPACT_MIN_BYTES = 64 * 1024 * 1024;
const COMPACT_RATIO = 4;
/**
 * The log is opened for synchronized appends (O_DSYNC): a write returns once its data is on the disk, as a write
 * followed by fdatasync would, in one trip to the thread pool instead of two. Under load each trip waits for a turn
 * of a busy event loop: a commit took two turns, and every message waited that long for its PUBACK and lived that
 * much longer in memory.
 */
const DURABLE_APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND | constants.O_DSYNC;

/** Live records, key → value bytes, in the order their keys were first set. */
export type LiveRecords = Map<string, Buffer>;

export function setRecord(key: string, value: Buffer): Buffer {
  return frame(SET, key, value, value.length, copyValue);
}

/** A set record whose value `writeValue` encodes in place (`valueBytes` long): a value written once, not encoded and then copied. */
export function setRecordWith<T>(key: string, value: T, valueBytes: number, writeValue: (value: T, target: Buffer, offset: number) => void): Buffer {
  return frame(SET, key, value, valueBytes, writeValue);
}

export function deleteRecord(key: string): Buffer {
  return frame(DELETE, key, undefined, 0, undefined);
}

/** Deletes the keys `${prefix}${n}` for n from `first` to `last` (non-negative integers below 2^48). */
export function deleteRangeRecord(prefix: string, first: number, last: number): Buffer {
  return frame(DELETE_RANGE, prefix, [first, last] as const, RANGE_VALUE_BYTES, writeRange);
}

const writeRange = (range: readonly [number, number], target: Buffer, offset: number) => {
  target.writeUIntLE(range[0], offset, 6);
  target.writeUIntLE(range[1], offset + 6, 6);
};

const copyValue = (value: Buffer, target: Buffer, offset: number) => void value.copy(target, offset);

function frame<T>(op: number, key: string, value: T, valueBytes: number, writeValue: ((value: T, target: Buffer, offset: number) => void) | undefined): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const bodyBytes = 3 + keyBytes + valueBytes;
  const record = Buffer.allocUnsafe(HEADER_BYTES + bodyBytes);
  record.writeUInt32LE(bodyBytes, 0);
  record[HEADER_BYTES] = op;
  record.writeUInt16LE(keyBytes, HEADER_BYTES + 1);
  record.write(key, HEADER_BYTES + 3, 'utf8');
  writeValue?.(value, record, HEADER_BYTES + 3 + keyBytes);
  record.writeUInt32LE(crc32(record.subarray(HEADER_BYTES)), 4);
  return record;
}

/** Reads every whole, intact record up to the first short or corrupt one, which a crash mid-write leaves. */
function replay(file: Buffer): LiveRecords {
  const live: LiveRecords = new Map();
  let at = 0;
  while (at + HEADER_BYTES <= file.length) {
    const bodyBytes = file.readUInt32LE(at);
    const end = at + HEADER_BYTES + bodyBytes;
    if (bodyBytes < 3 || end > file.length) break;
    const body = file.subarray(at + HEADER_BYTES, end);
    if (crc32(body) !== file.readUInt32LE(at + 4)) break;
    const keyBytes = body.readUInt16LE(1);
    if (3 + keyBytes > body.length) break;
    const key = body.toString('utf8', 3, 3 + keyBytes);
    if (body[0] === SET) live.set(key, Buffer.from(body.subarray(3 + keyBytes)));
    else if (body[0] === DELETE) live.delete(key);
    else if (body[0] === DELETE_RANGE && body.length === 3 + keyBytes + RANGE_VALUE_BYTES) {
      const last = body.readUIntLE(3 + keyBytes + 6, 6);
      for (let n = body.readUIntLE(3 + keyBytes, 6); n <= last; n++) live.delete(key + n);
    } else break;
    at = end;
  }
  return live;
}

/** Told once the record it waits for is on the disk, or why it never will be. */
export interface CommitWaiter {
  committed(error?: Error): void;
}

/** The records of one group commit and who waits for them: a promise for each append(), made once per group. */
class Batch {
  readonly waiters: CommitWaiter[] = [];
  private settled: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;

  get promise(): Promise<void> {
    if (!this.settled) {
      let resolve!: () => void;
      let reject!: (error: Error) => void;
      const promise = new Promise<void>((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      // As in refused(): a write nobody waits on must not be an unhandled rejection.
      promise.catch(() => undefined);
      this.settled = { promise, resolve, reject };
    }
    return this.settled.promise;
  }

  /** The waiters are told from a task of their own, as a promise's would be: what they do is no part of the commit. */
  resolve(): void {
    this.settled?.resolve();
    if (this.waiters.length > 0) queueMicrotask(() => this.tell());
  }

  reject(error: Error): void {
    this.settled?.reject(error);
    if (this.waiters.length > 0) queueMicrotask(() => this.tell(error));
  }

  private tell(error?: Error): void {
    for (const waiter of this.waiters) waiter.committed(error);
  }
}

export class WriteAheadLog {
  private pending: Buffer[] = [];
  private batch: Batch | undefined;
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;
  private compactAt: number;

  /**
   * Opens (creating) the log at `path` and returns what it holds. `snapshot` gives the live records whenever the log
   * is compacted while running: the state after every record appended so far, encoded as set records.
   */
  static async open(path: string, snapshot: () => Iterable<Buffer>, compactMinBytes = COMPACT_MIN_BYTES): Promise<{ log: WriteAheadLog; live: LiveRecords }> {
    await mkdir(dirname(path), { recursive: true });
    await lock(path);
    try {
      const file = await readFile(path).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return Buffer.alloc(0);
        throw error;
      });
      const live = replay(file);
      const bytes = await writeSnapshot(path, [...live].map(([key, value]) => setRecord(key, value)));
      return { log: new WriteAheadLog(path, await open(path, DURABLE_APPEND), bytes, snapshot, compactMinBytes), live };
    } catch (error) {
      await unlink(`${path}.lock`).catch(() => undefined);
      throw error;
    }
  }

  private constructor(
    private readonly path: string,
    private handle: FileHandle,
    private fileBytes: number,
    private readonly snapshot: () => Iterable<Buffer>,
    private readonly compactMinBytes: number,
  ) {
    this.compactAt = Math.max(compactMinBytes, fileBytes * COMPACT_RATIO);
  }

  /** Appends a record; the promise resolves once it is on the disk. */
  append(record: Buffer): Promise<void> {
    if (this.failure || this.closed) return refused(this.failure ?? new Error('the store is closed'));
    return this.group(record).promise;
  }

  /**
   * append() without a promise, for a record written per message: `waiter` is told once the record is on the disk,
   * after the waiters of the records appended before it, and never synchronously.
   */
  appendFor(record: Buffer, waiter: CommitWaiter): void {
    if (this.failure || this.closed) {
      const error = this.failure ?? new Error('the store is closed');
      queueMicrotask(() => waiter.committed(error));
      return;
    }
    this.group(record).waiters.push(waiter);
  }

  private group(record: Buffer): Batch {
    this.pending.push(record);
    if (!this.batch) {
      this.batch = new Batch();
      this.flushing ??= new Promise((next) => setImmediate(next)).then(() => this.flush());
    }
    return this.batch;
  }

  /** Waits for every appended record to be on the disk, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.handle.close();
    await unlink(`${this.path}.lock`).catch(() => undefined);
  }

  private async flush(): Promise<void> {
    while (this.batch) {
      const batch = this.batch;
      const records = this.pending;
      this.batch = undefined;
      this.pending = [];
      try {
        if (this.failure) throw this.failure;
        const bytes = records.reduce((total, record) => total + record.length, 0);
        if (this.fileBytes + bytes > this.compactAt) await this.compact();
        else {
          await this.handle.writev(records);
          this.fileBytes += bytes;
        }
      } catch (error) {
        // A log that failed a write may end in a torn record; nothing more goes in after it.
        this.failure ??= error as Error;
        batch.reject(this.failure);
        continue;
      }
      batch.resolve();
    }
    this.flushing = undefined;
  }

  /**
   * Replaces the log with the live records. The snapshot already holds the effect of every record appended so far,
   * those of the batch being committed included, so they need not be written separately.
   */
  private async compact(): Promise<void> {
    const records = [...this.snapshot()];
    await this.handle.close();
    this.fileBytes = await writeSnapshot(this.path, records);
    this.handle = await open(this.path, DURABLE_APPEND);
    this.compactAt = Math.max(this.compactMinBytes, this.fileBytes * COMPACT_RATIO);
  }
}

/**
 * Two brokers appending to one log would interleave their records: the second to open it is refused while the
 * process that holds its lock file lives. A lock left by a killed broker is taken over.
 */
async function lock(path: string): Promise<void> {
  const lockPath = `${path}.lock`;
  for (;;) {
    try {
      await writeFile(lockPath, String(process.pid), { flag: 'wx' });
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(await readFile(lockPath, 'utf8').catch(() => ''));
    if (holder > 0 && isAlive(holder)) {
      throw new Error(
        `${path} is in use by process ${holder}: one broker per data directory (remove ${lockPath} if no broker runs there)\n` +
          `${path} đang được tiến trình ${holder} dùng: mỗi thư mục dữ liệu chỉ một broker (xóa ${lockPath} nếu không có broker nào chạy ở đó)`,
      );
    }
    await unlink(lockPath).catch(() => undefined);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A rejected promise that is no unhandled rejection when nobody waits on it (an acknowledgement's delete). */
function refused(error: Error): Promise<void> {
  const promise = Promise.reject(error);
  promise.catch(() => undefined);
  return promise;
}

/** Writes the records to a new file and renames it over `path`, syncing both, so a crash leaves the old or the new. */
async function writeSnapshot(path: string, records: Buffer[]): Promise<number> {
  const temporary = `${path}.compacting`;
  const handle = await open(temporary, 'w');
  try {
    await handle.writev(records);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temporary, path);
  const directory = await open(dirname(path), 'r');
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
  return records.reduce((total, record) => total + record.length, 0);
}
