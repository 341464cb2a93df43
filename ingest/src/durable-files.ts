/**
 * Small files that must survive a crash or power loss once the call returns: ingest acknowledges
 * messages to the broker on the strength of them, and the broker then forgets those messages.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Replaces `path` with `content` all at once: a crash leaves the old content or the new, never a mix. */
export function writeFileAtomic(path: string, content: string): void {
  const temporary = `${path}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, path);
}

/** Appends `content` and syncs it, and the directory entry of a file it created. */
export async function appendDurably(path: string, content: string | Buffer): Promise<void> {
  const handle = await open(path, 'a');
  let created: boolean;
  try {
    created = (await handle.stat()).size === 0;
    await handle.writeFile(content);
    await handle.sync();
  } finally {
    await handle.close();
  }
  if (created) await syncDirectory(dirname(path));
}

/** A new file's directory entry must be durable too, or the fsynced file could vanish with it. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
