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
  return frame(SET, key, value, value.length, writeBufferValue);
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

/** The writeValue of a value already encoded. */
export const writeBufferValue = (value: Buffer, target: Buffer, offset: number) => void value.copy(target, offset);

function frame<T>(op: number, key: string, value: T, valueBytes: number, writeValue: ((value: T, target: Buffer, offset: number) => void) | undefined): Buffer {
  const keyBytes = Buffer.byteLength(key);
  const record = Buffer.allocUnsafe(recordBytes(keyBytes, valueBytes));
  frameInto(record, 0, op, key, keyBytes, value, valueBytes, writeValue);
  return record;
}

function recordBytes(keyBytes: number, valueBytes: number): number {
  return HEADER_BYTES + 3 + keyBytes + valueBytes;
}

/** Writes the record at `at`, into room of recordBytes(keyBytes, valueBytes). */
function frameInto<T>(
  target: Buffer,
  at: number,
  op: number,
  key: string,
  keyBytes: number,
  value: T,
  valueBytes: number,
  writeValue: ((value: T, target: Buffer, offset: number) => void) | undefined,
): void {
  const bodyAt = at + HEADER_BYTES;
  const end = bodyAt + 3 + keyBytes + valueBytes;
  target.writeUInt32LE(end - bodyAt, at);
  target[bodyAt] = op;
  target.writeUInt16LE(keyBytes, bodyAt + 1);
  target.write(key, bodyAt + 3, keyBytes, 'utf8');
  writeValue?.(value, target, bodyAt + 3 + keyBytes);
  target.writeUInt32LE(crc32(target.subarray(bodyAt, end)), at + 4);
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

/** A group's buffer as it starts, and the most one keeps for the next group once a burst has grown it. */
const GROUP_BUFFER_BYTES = 256 * 1024;
const KEPT_GROUP_BUFFER_BYTES = 4 * 1024 * 1024;

/**
 * The records of one group, framed where they are appended, in a buffer used again by a later group once written.
 * A record in a buffer of its own cost the broker one for every message, and the bytes of those young buffers alone
 * made V8 collect its young generation several times as often as its size called for ("external memory pressure"),
 * every such collection moving the messages still waiting for their consumer's acknowledgement.
 */
class GroupBuffer {
  bytes = Buffer.allocUnsafeSlow(GROUP_BUFFER_BYTES);
  length = 0;

  /** Makes room for `size` more bytes at the end; returns where they start. */
  room(size: number): number {
    const at = this.length;
    if (at + size > this.bytes.length) {
      const larger = Buffer.allocUnsafeSlow(Math.max(this.bytes.length * 2, at + size));
      this.bytes.copy(larger, 0, 0, at);
      this.bytes = larger;
    }
    this.length = at + size;
    return at;
  }

  empty(): void {
    this.length = 0;
    if (this.bytes.length > KEPT_GROUP_BUFFER_BYTES) this.bytes = Buffer.allocUnsafeSlow(GROUP_BUFFER_BYTES);
  }
}

export class WriteAheadLog {
  /** The group being appended to, and the one on its way to the disk (or written, and empty). */
  private filling = new GroupBuffer();
  private writing = new GroupBuffer();
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
    const batch = this.group();
    // Room first: making it may replace the buffer.
    const at = this.filling.room(record.length);
    record.copy(this.filling.bytes, at);
    return batch.promise;
  }

  /**
   * Appends a set record framed in place, its value written by `writeValue` into `valueBytes`: for a record written per
   * message, with no buffer nor promise of its own. `waiter`, if any, is told once the record is on the disk, after the
   * waiters of the records appended before it, and never synchronously.
   */
  appendSet<T>(key: string, value: T, valueBytes: number, writeValue: (value: T, target: Buffer, offset: number) => void, waiter?: CommitWaiter): void {
    if (this.failure || this.closed) {
      const error = this.failure ?? new Error('the store is closed');
      if (waiter) queueMicrotask(() => waiter.committed(error));
      return;
    }
    const batch = this.group();
    const keyBytes = Buffer.byteLength(key);
    const at = this.filling.room(recordBytes(keyBytes, valueBytes));
    frameInto(this.filling.bytes, at, SET, key, keyBytes, value, valueBytes, writeValue);
    if (waiter) batch.waiters.push(waiter);
  }

  private group(): Batch {
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
      const records = this.filling;
      this.filling = this.writing;
      this.writing = records;
      this.batch = undefined;
      try {
        if (this.failure) throw this.failure;
        if (this.fileBytes + records.length > this.compactAt) await this.compact();
        else {
          await writeAll(this.handle, records.bytes, records.length);
          this.fileBytes += records.length;
        }
      } catch (error) {
        // A log that failed a write may end in a torn record; nothing more goes in after it.
        this.failure ??= error as Error;
        batch.reject(this.failure);
        continue;
      } finally {
        records.empty();
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

async function writeAll(handle: FileHandle, bytes: Buffer, length: number): Promise<void> {
  for (let at = 0; at < length; ) at += (await handle.write(bytes, at, length - at)).bytesWritten;
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
