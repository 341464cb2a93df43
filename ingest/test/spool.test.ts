import { spawnSync } from 'node:child_process';
import { appendFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '@city/platform/testing';
import { Spool, SpoolFullError } from '../src/spool.js';

let dir: ReturnType<typeof tempDir>;

beforeEach(() => {
  dir = tempDir('city-spool-');
});

afterEach(() => {
  dir.cleanup();
});

const batch = (n: number) => [`m,device_id=d v=${n} ${n}`, `m,device_id=e v=${n} ${n}`];

const filler = (n: number) => [`m,device_id=d v=${n} ${n} ${'x'.repeat(300)}`];

/** Appends until the file size limit stops it, tries once more, and exits without closing (a crash). */
const FILL_UNTIL_FULL = `
  import { Spool } from ${JSON.stringify(fileURLToPath(new URL('../src/spool.ts', import.meta.url)))};
  const filler = ${filler.toString()};
  const spool = await Spool.open(process.env.SPOOL_DIR, { maxBytes: 1e9, segmentBytes: 1e6 });
  let acked = 0;
  const errors = [];
  for (;;) {
    try { await spool.append(filler(acked)); acked++; } catch (error) { errors.push(error.code); if (errors.length === 2) break; }
  }
  process.stdout.write(JSON.stringify({ acked, errors }));
  process.exit(0);
`;

async function drain(spool: Spool): Promise<string[][]> {
  const out: string[][] = [];
  await spool.replay(async (lines) => void out.push(lines));
  return out;
}

describe('Spool', () => {
  it('replays batches in order, across segments, and forgets them once written', async () => {
    const spool = await Spool.open(dir.path, { maxBytes: 1_000_000, segmentBytes: 200 });
    for (let i = 0; i < 10; i++) await spool.append(batch(i));
    expect(spool.depth().records).toBe(10);
    expect(readdirSync(dir.path).filter((name) => name.endsWith('.seg')).length).toBeGreaterThan(1);
    expect(await drain(spool)).toEqual(Array.from({ length: 10 }, (_, i) => batch(i)));
    expect(spool.depth()).toEqual({ records: 0, bytes: 0 });
    expect(await drain(spool)).toEqual([]);
    await spool.close();
  });

  it('survives a reopen: what was appended and not replayed is still there, what was replayed is not', async () => {
    const first = await Spool.open(dir.path, { maxBytes: 1_000_000, segmentBytes: 200 });
    for (let i = 0; i < 6; i++) await first.append(batch(i));
    let delivered = 0;
    await expect(
      first.replay(async () => {
        if (delivered === 3) throw new Error('InfluxDB went away again');
        delivered++;
      }),
    ).rejects.toThrow('went away');
    await first.close();

    const second = await Spool.open(dir.path, { maxBytes: 1_000_000, segmentBytes: 200 });
    expect(second.depth().records).toBe(3);
    expect(await drain(second)).toEqual([batch(3), batch(4), batch(5)]);
    await second.close();
  });

  it('cuts a torn record left by a crash during an append, keeping every complete one', async () => {
    const first = await Spool.open(dir.path, { maxBytes: 1_000_000 });
    await first.append(batch(1));
    await first.append(batch(2));
    await first.close();
    const segment = join(dir.path, readdirSync(dir.path).find((name) => name.endsWith('.seg')) as string);
    const intact = statSync(segment).size;
    appendFileSync(segment, Buffer.from([0xff, 0x00, 0x00, 0x00, 0x12, 0x34, 0x56, 0x78, 0x41, 0x42]));

    const second = await Spool.open(dir.path, { maxBytes: 1_000_000 });
    expect(statSync(segment).size).toBe(intact);
    await second.append(batch(3));
    expect(await drain(second)).toEqual([batch(1), batch(2), batch(3)]);
    await second.close();
  });

  it('refuses an append past its bound without damaging what it holds', async () => {
    // One record of these two lines is 47 bytes.
    const spool = await Spool.open(dir.path, { maxBytes: 60 });
    await spool.append(batch(1));
    await expect(spool.append(batch(2))).rejects.toBeInstanceOf(SpoolFullError);
    expect(spool.depth().records).toBe(1);
    expect(await drain(spool)).toEqual([batch(1)]);
    await spool.append(batch(2));
    expect(await drain(spool)).toEqual([batch(2)]);
    await spool.close();
  });

  it('acknowledges only whole records when the disk fills in the middle of one', async () => {
    // `ulimit -f` makes the kernel take part of a write and refuse the next, as a full disk does.
    const child = spawnSync(
      'bash',
      ['-c', 'ulimit -f 4 && exec node --import tsx --input-type=module -e "$0"', FILL_UNTIL_FULL],
      { cwd: fileURLToPath(new URL('../..', import.meta.url)), env: { ...process.env, SPOOL_DIR: dir.path }, encoding: 'utf8', timeout: 20_000 },
    );
    expect(child.stderr).toBe('');
    const { acked, errors } = JSON.parse(child.stdout) as { acked: number; errors: string[] };
    expect(acked).toBeGreaterThan(5);
    expect(errors).toEqual(['EFBIG', 'EFBIG']);

    const reopened = await Spool.open(dir.path, { maxBytes: 1_000_000 });
    expect(reopened.depth().records).toBe(acked);
    expect(await drain(reopened)).toEqual(Array.from({ length: acked }, (_, i) => filler(i)));
    await reopened.close();
  });

  it('keeps to one replay at a time and ignores an empty batch', async () => {
    const spool = await Spool.open(dir.path, { maxBytes: 1_000_000 });
    await spool.append([]);
    expect(spool.depth()).toEqual({ records: 0, bytes: 0 });
    await spool.append(batch(1));
    let entered: (release: () => void) => void = () => {};
    const writing = new Promise<() => void>((resolve) => (entered = resolve));
    const first = spool.replay(() => new Promise((resolve) => entered(resolve)));
    const release = await writing;
    await expect(spool.replay(async () => {})).rejects.toThrow(/already being replayed/);
    release();
    expect(await first).toBe(1);
    await spool.close();
  });

  it('refuses a second live process on the same directory', async () => {
    const spool = await Spool.open(dir.path, { maxBytes: 1000 });
    // The parent (vitest) is alive, as another ingest process would be.
    writeFileSync(join(dir.path, 'spool.lock'), String(process.ppid));
    await expect(Spool.open(dir.path, { maxBytes: 1000 })).rejects.toThrow(/in use by process/);
    await spool.close();
  });
});
