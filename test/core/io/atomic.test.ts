import { execFileSync } from 'node:child_process';
import { fstatSync, openSync, closeSync, writeSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openAtomic, writeFileAtomic } from '../../../core/io/atomic.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
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

describe('targets that are not regular files', () => {
  const asRoot = process.getuid?.() === 0;

  it('writes through /dev/null and leaves it a device', async () => {
    await writeFileAtomic('/dev/null', 'secret credentials');
    const info = await stat('/dev/null');
    expect(info.isCharacterDevice()).toBe(true);
    expect((await readFile('/dev/null')).length).toBe(0);
  });

  it('writes through a FIFO in order and leaves it a FIFO', async () => {
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const reading = readFile(fifo);
    const data = Buffer.alloc(200_000, 'x');
    data.write('start');
    await writeFileAtomic(fifo, data);
    expect((await reading).equals(data)).toBe(true);
    expect((await lstat(fifo)).isFIFO()).toBe(true);
    expect(await readdir(dir)).toEqual(['fifo']);
  });

  it('writes through /proc/self/fd/N into the open file, not a new one', async () => {
    const path = join(dir, 'opened');
    const fd = openSync(path, 'w');
    try {
      const inode = fstatSync(fd).ino;
      await writeFileAtomic(`/proc/self/fd/${fd}`, 'through the descriptor');
      expect(await readFile(path, 'utf8')).toBe('through the descriptor');
      expect((await stat(path)).ino).toBe(inode);
    } finally {
      closeSync(fd);
    }
    expect(await readdir(dir)).toEqual(['opened']);
  });

  it('replaces the file a symlink names and keeps the link', async () => {
    await mkdir(join(dir, 'real'));
    await writeFile(join(dir, 'real/config.json'), 'old', { mode: 0o644 });
    await symlink('real/config.json', join(dir, 'link'));
    await writeFileAtomic(join(dir, 'link'), 'new', { mode: 0o600 });
    expect((await lstat(join(dir, 'link'))).isSymbolicLink()).toBe(true);
    expect(await readlink(join(dir, 'link'))).toBe('real/config.json');
    expect(await readFile(join(dir, 'real/config.json'), 'utf8')).toBe('new');
    expect((await stat(join(dir, 'real/config.json'))).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'real'))).toEqual(['config.json']);
  });

  it('creates the file a dangling symlink names', async () => {
    await symlink('later/file', join(dir, 'dangling'));
    await mkdir(join(dir, 'later'));
    await writeFileAtomic(join(dir, 'dangling'), 'made');
    expect((await lstat(join(dir, 'dangling'))).isSymbolicLink()).toBe(true);
    expect(await readFile(join(dir, 'later/file'), 'utf8')).toBe('made');
  });

  it.skipIf(!asRoot && !process.env.CI)('as root too, a device stays a device', async () => {
    expect(process.getuid?.()).toBe(0);
    await writeFileAtomic('/dev/null', 'x');
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });
});

describe('killed mid-write', () => {
  it('an anonymous file appears complete at commit with its mode', async () => {
    const file = await openAtomic(join(dir, 'out'), { anonymous: true, mode: 0o600 });
    file.stream.write('all of it');
    await new Promise((resolve) => file.stream.write('', resolve));
    expect(await readdir(dir)).toEqual([]);
    await file.commit();
    expect(await readdir(dir)).toEqual(['out']);
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('all of it');
    expect((await stat(join(dir, 'out'))).mode & 0o777).toBe(0o600);
  });

  it('removes temporary files of dead writers on the next write in the directory, and nothing else', async () => {
    const old = new Date(Date.now() - 60_000);
    const deadPid = 2 ** 22 + 7; // above pid_max's default: no such process
    const stale = `.out.${deadPid}.0123456789ab.tmp`;
    const legacy = '.out.abcdefabcdef.tmp';
    const recent = `.out.${deadPid}.ba9876543210.tmp`;
    const live = `.out.${process.ppid}.ffffffffffff.tmp`;
    for (const name of [stale, legacy, recent, live, 'keep.tmp']) await writeFile(join(dir, name), 'partial');
    for (const name of [stale, legacy, live, 'keep.tmp']) await utimes(join(dir, name), old, old);
    await writeFileAtomic(join(dir, 'other'), 'x');
    expect((await readdir(dir)).sort()).toEqual([live, recent, 'keep.tmp', 'other'].sort());
  });
});
