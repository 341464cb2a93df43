/**
 * A durable on-disk queue of batches InfluxDB could not take. Append-only segment files of records
 * `[length u32][crc32 u32][payload]`, fsynced before `append` resolves (the caller acknowledges MQTT
 * messages only then); a cursor file, replaced atomically, says how far replay got. A crash during an
 * append leaves a torn record at the tail, which the next open detects by length or CRC and cuts off.
 * One process per spool directory: a lock file with the owner's pid refuses a second live one.
 */
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, readFile, rm, truncate, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { syncDirectory, writeFileAtomic } from './durable-files.js';
import { bodyOf, type LineBatch } from './line-body.js';

export class SpoolFullError extends Error {
  override name = 'SpoolFullError';
}

export interface SpoolOptions {
  maxBytes: number;
  segmentBytes?: number;
}

interface Segment {
  number: number;
  path: string;
  /** Bytes of complete, fsynced records. */
  size: number;
}

interface Cursor {
  segment: number;
  offset: number;
}

const HEADER_BYTES = 8;
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT']);
const SEGMENT_SUFFIX = '.seg';
const DEFAULT_SEGMENT_BYTES = 16 * 1024 * 1024;

export class Spool {
  private appending: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;
  /** Set when a failed append could not be cut back: the next record must not follow the torn one. */
  private mustRotate = false;
  private replaying = false;
  private records = 0;
  private bytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly options: SpoolOptions,
    private readonly segments: Segment[],
    private cursor: Cursor,
  ) {}

  static async open(dir: string, options: SpoolOptions): Promise<Spool> {
    mkdirSync(dir, { recursive: true });
    takeLock(dir);
    const segments = readdirSync(dir)
      .filter((name) => name.endsWith(SEGMENT_SUFFIX))
      .map((name) => ({ number: Number.parseInt(name, 10), path: join(dir, name), size: 0 }))
      .filter((segment) => Number.isSafeInteger(segment.number))
      .sort((a, b) => a.number - b.number);
    const cursor = readCursor(dir) ?? { segment: segments[0]?.number ?? 1, offset: 0 };
    const spool = new Spool(dir, options, segments, cursor);
    await spool.recover();
    return spool;
  }

  depth(): { records: number; bytes: number } {
    return { records: this.records, bytes: this.bytes };
  }

  append(lines: LineBatch): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    const result = this.appending.then(() => this.appendNow(lines));
    this.appending = result.catch(() => undefined);
    return result;
  }

  /**
   * Hands records to `write` oldest first; each is removed only after `write` resolved. Stops at the
   * first failure, leaving that record and the rest for the next call.
   */
  async replay(write: (lines: string[]) => Promise<void>): Promise<number> {
    // Two passes at once would both deliver the record under the cursor.
    if (this.replaying) throw new Error('the spool is already being replayed');
    this.replaying = true;
    try {
      return await this.replayRecords(write);
    } finally {
      this.replaying = false;
    }
  }

  private async replayRecords(write: (lines: string[]) => Promise<void>): Promise<number> {
    let delivered = 0;
    for (;;) {
      const segment = this.segments.find((candidate) => candidate.number === this.cursor.segment);
      if (!segment) return delivered;
      if (this.cursor.offset >= segment.size) {
        const next = this.segments.find((candidate) => candidate.number > segment.number);
        if (!next) return delivered;
        await this.dropSegment(segment, next.number);
        continue;
      }
      const record = await readRecord(segment.path, this.cursor.offset);
      await write(record.lines);
      this.cursor = { segment: segment.number, offset: this.cursor.offset + record.size };
      this.saveCursor();
      this.records--;
      this.bytes -= record.size;
      delivered++;
    }
  }

  async close(): Promise<void> {
    await this.appending;
    await this.handle?.close();
    this.handle = undefined;
    rmSync(join(this.dir, 'spool.lock'), { force: true });
  }

  private async appendNow(lines: LineBatch): Promise<void> {
    const payload = bodyOf(lines);
    const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    record.writeUInt32LE(payload.length, 0);
    record.writeUInt32LE(crc32(payload), 4);
    payload.copy(record, HEADER_BYTES);
    if (this.bytes + record.length > this.options.maxBytes) {
      throw new SpoolFullError(`the spool holds ${this.bytes} bytes and its limit is ${this.options.maxBytes}`);
    }
    let segment = this.segments.at(-1);
    if (!segment || this.mustRotate || segment.size + record.length > (this.options.segmentBytes ?? DEFAULT_SEGMENT_BYTES)) {
      segment = await this.startSegment((segment?.number ?? 0) + 1);
    }
    const handle = (this.handle ??= await open(segment.path, 'a'));
    try {
      // A filling disk takes part of a record without an error; only the write after it fails.
      for (let written = 0; written < record.length; ) written += (await handle.write(record, written)).bytesWritten;
      await handle.datasync();
    } catch (error) {
      // Leave no half record behind (a full disk): cut the file back to its last complete record.
      await this.handle?.close().catch(() => undefined);
      this.handle = undefined;
      await truncate(segment.path, segment.size).catch(() => (this.mustRotate = true));
      // A full disk is a full spool: the caller holds acknowledgements and says so, as at the size limit.
      if (DISK_FULL.has((error as NodeJS.ErrnoException).code ?? '')) {
        throw new SpoolFullError(`the disk holding the spool is full (${(error as NodeJS.ErrnoException).code}) at ${this.bytes} bytes spooled`, { cause: error });
      }
      throw error;
    }
    segment.size += record.length;
    this.records++;
    this.bytes += record.length;
  }

  private async startSegment(number: number): Promise<Segment> {
    await this.handle?.close();
    this.handle = undefined;
    const segment = { number, path: join(this.dir, `${String(number).padStart(10, '0')}${SEGMENT_SUFFIX}`), size: 0 };
    closeSync(openSync(segment.path, 'a'));
    await syncDirectory(this.dir);
    this.mustRotate = false;
    if (this.segments.length === 0) {
      this.cursor = { segment: number, offset: 0 };
      writeCursor(this.dir, this.cursor);
    }
    this.segments.push(segment);
    return segment;
  }

  /**
   * The segment goes before the cursor moves on: on a full disk, removing it is what makes room for
   * the cursor. A crash between the two is safe, since a cursor naming a missing segment starts over
   * at the next one.
   */
  private async dropSegment(segment: Segment, next: number): Promise<void> {
    await rm(segment.path, { force: true });
    this.segments.splice(this.segments.indexOf(segment), 1);
    this.cursor = { segment: next, offset: 0 };
    this.saveCursor();
  }

  /**
   * On a full disk the cursor cannot be replaced, yet replay must go on to free space; it then lives in
   * memory until the next save succeeds. A crash meanwhile replays those records again, which stores
   * the same points at the same timestamps: nothing lost, nothing doubled.
   */
  private saveCursor(): void {
    try {
      writeCursor(this.dir, this.cursor);
    } catch (error) {
      if (!DISK_FULL.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }

  /** Validates every segment, cuts a torn tail, drops segments the cursor has passed, and counts what is left. */
  private async recover(): Promise<void> {
    for (const segment of [...this.segments]) {
      if (segment.number < this.cursor.segment) {
        await rm(segment.path, { force: true });
        this.segments.splice(this.segments.indexOf(segment), 1);
        continue;
      }
      const content = await readFile(segment.path);
      let offset = 0;
      while (offset + HEADER_BYTES <= content.length) {
        const length = content.readUInt32LE(offset);
        const end = offset + HEADER_BYTES + length;
        if (end > content.length || crc32(content.subarray(offset + HEADER_BYTES, end)) !== content.readUInt32LE(offset + 4)) break;
        if (segment.number > this.cursor.segment || offset >= this.cursor.offset) {
          this.records++;
          this.bytes += end - offset;
        }
        offset = end;
      }
      if (offset < content.length) await truncate(segment.path, offset);
      segment.size = offset;
    }
    if (this.segments.length > 0 && !this.segments.some((segment) => segment.number === this.cursor.segment)) {
      this.cursor = { segment: (this.segments[0] as Segment).number, offset: 0 };
    }
  }
}

async function readRecord(path: string, offset: number): Promise<{ lines: string[]; size: number }> {
  const handle = await open(path, 'r');
  try {
    const header = Buffer.alloc(HEADER_BYTES);
    await handle.read(header, 0, HEADER_BYTES, offset);
    const length = header.readUInt32LE(0);
    const payload = Buffer.alloc(length);
    await handle.read(payload, 0, length, offset + HEADER_BYTES);
    if (crc32(payload) !== header.readUInt32LE(4)) throw new Error(`spool record at ${path}:${offset} is corrupt`);
    return { lines: payload.toString('utf8').split('\n'), size: HEADER_BYTES + length };
  } finally {
    await handle.close();
  }
}

function readCursor(dir: string): Cursor | undefined {
  const file = join(dir, 'cursor.json');
  if (!existsSync(file)) return undefined;
  try {
    const cursor = JSON.parse(readFileSync(file, 'utf8')) as Cursor;
    return Number.isSafeInteger(cursor.segment) && Number.isSafeInteger(cursor.offset) ? cursor : undefined;
  } catch {
    return undefined;
  }
}

function writeCursor(dir: string, cursor: Cursor): void {
  writeFileAtomic(join(dir, 'cursor.json'), JSON.stringify(cursor));
}

function takeLock(dir: string): void {
  const lock = join(dir, 'spool.lock');
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
    return;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
  if (pid !== process.pid && isAlive(pid)) throw new Error(`the spool in ${dir} is in use by process ${pid}`);
  // Left by a process that died: take it over.
  writeFileSync(lock, String(process.pid));
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
