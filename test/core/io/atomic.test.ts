import { fstatSync, openSync, closeSync, writeSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openAtomic } from '../../../core/io/atomic.js';
import { tempDir } from '../../fakes/temp.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('berth-atomic-');
});

describe('openAtomic', () => {
  it('shows the target only after commit, with the mode asked for; stream and fd writes both land', async () => {
    const file = await openAtomic(join(dir, 'target'), { mode: 0o640 });
    file.stream.write('via stream;');
    await new Promise((resolve) => file.stream.write('', resolve));
    writeSync(file.fd, 'via fd');
    expect(await readdir(dir)).toEqual([file.tempPath.split('/').pop()]);
    await file.commit();
    expect(await readFile(join(dir, 'target'), 'utf8')).toBe('via stream;via fd');
    expect((await stat(join(dir, 'target'))).mode & 0o777).toBe(0o640);
    expect(await readdir(dir)).toEqual(['target']);
  });

  it('abort removes the temporary file and closes the descriptor exactly once', async () => {
    const file = await openAtomic(join(dir, 'target'));
    file.stream.write(Buffer.alloc(1 << 20));
    const errors: Error[] = [];
    file.stream.on('error', (err) => errors.push(err));
    await file.abort();
    await file.abort();
    // The next open reuses the descriptor number; a second close of the old one would close it.
    const reused = openSync(join(dir, 'other'), 'w');
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(() => fstatSync(reused)).not.toThrow();
    } finally {
      closeSync(reused);
    }
    expect(errors).toEqual([]);
    expect(await readdir(dir)).toEqual(['other']);
  });
});
