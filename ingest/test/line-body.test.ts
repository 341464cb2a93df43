import { describe, expect, it } from 'vitest';
import { LineBuffer, bodyOf, linesOf } from '../src/line-body.js';

describe('a batch body', () => {
  it('holds the lines as newline-separated UTF-8, growing past its first size, whatever the characters', () => {
    const buffer = new LineBuffer(16);
    const lines = ['m,device_id=a v=1 1', 'm,device_id=b,zone=Hải\\ Châu s="đèn 🚦" 2', 'x'.repeat(500)];
    for (const line of lines) buffer.add(line);
    expect(buffer.count).toBe(3);
    expect(buffer.body().toString('utf8')).toBe(lines.join('\n'));
    expect(linesOf(buffer.body())).toEqual(lines);
    expect(bodyOf(lines)).toEqual(buffer.body());
  });

  it('gives back a mostly unused buffer when sealed, and is empty with no lines', () => {
    const buffer = new LineBuffer(1 << 20);
    buffer.add('a v=1 1');
    const body = buffer.body();
    expect(body.toString()).toBe('a v=1 1');
    expect(body.buffer.byteLength).toBeLessThan(1 << 20);
    expect(new LineBuffer(64).body().length).toBe(0);
    expect(linesOf(Buffer.alloc(0))).toEqual([]);
  });
});
