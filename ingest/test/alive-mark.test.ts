import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '@city/platform/testing';
import { AliveMark } from '../src/alive-mark.js';

describe('the alive mark', () => {
  it('tells the next run when this one last received, and nothing on a first start', () => {
    const dir = tempDir('alive-mark-');
    try {
      const file = join(dir.path, 'ingest-alive');
      const first = new AliveMark(file);
      expect(first.previous()).toBeUndefined();
      first.start(() => 1_750_000_000_000);
      first.stop();
      expect(new AliveMark(file).previous()).toBe(1_750_000_000_000);
    } finally {
      dir.cleanup();
    }
  });

  it('writes nothing before anything was received', () => {
    const dir = tempDir('alive-mark-');
    try {
      const file = join(dir.path, 'ingest-alive');
      const mark = new AliveMark(file);
      mark.start(() => undefined);
      mark.stop();
      expect(new AliveMark(file).previous()).toBeUndefined();
    } finally {
      dir.cleanup();
    }
  });
});
