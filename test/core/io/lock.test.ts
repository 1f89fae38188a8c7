/** withStoreLock: writers that read, wait and write back lose nothing when they hold the lock. */
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { withLock, withStoreLock } from '../../../core/io/lock.js';
import { tempDir } from '../../fakes/temp.js';

describe('withStoreLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir('berth-lock-');
  });

  async function appendUnderLock(file: string, value: number): Promise<void> {
    await withStoreLock({ XDG_CACHE_HOME: dir }, 'test', async () => {
      const current = JSON.parse(await readFile(file, 'utf8')) as number[];
      // A gap between read and write, where an unlocked writer would be overtaken.
      await new Promise((resolve) => setImmediate(resolve));
      await writeFile(file, JSON.stringify([...current, value]));
    });
  }

  it('serialises 20 read-modify-write cycles: every value survives', async () => {
    const file = join(dir, 'entries.json');
    await writeFile(file, '[]');
    await Promise.all(Array.from({ length: 20 }, (_, i) => appendUnderLock(file, i)));
    const values = JSON.parse(await readFile(file, 'utf8')) as number[];
    expect(values.sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('tells the holder, before it writes, that another process took its lock over', async () => {
    const lockPath = join(dir, 'berth', 'test.lock');
    await expect(
      withStoreLock({ XDG_CACHE_HOME: dir }, 'test', async (held) => {
        await held(); // still its own
        await rm(lockPath, { recursive: true });
        await mkdir(lockPath);
        await writeFile(join(lockPath, 'owner'), `${process.ppid} ${hostname()} 0123456789abcdef\n`);
        await held();
      }),
    ).rejects.toThrow(/lost the lock on the test store .*another process took it over/);
  });

  it('a holder busy past the refresh interval keeps its lock (its owner file is not taken for a takeover)', async () => {
    // stale 2 s: proper-lockfile refreshes the lock every second and checks it is still the one it made
    const lockPath = join(dir, 'berth', 'slow.lock');
    await mkdir(join(dir, 'berth'), { recursive: true });
    const result = await withLock(
      lockPath,
      'the slow store',
      async (held) => {
        await new Promise((resolve) => setTimeout(resolve, 2_600));
        await held();
        return 'written';
      },
      { staleMs: 2_000 },
    );
    expect(result).toBe('written');
  });

  it("returns the work's result, releases the lock after a failure, and keeps the error", async () => {
    const env = { XDG_CACHE_HOME: dir };
    await expect(withStoreLock(env, 'test', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withStoreLock(env, 'test', async () => 42)).resolves.toBe(42);
  });

  it('two locks of different names held at once in one process are each released', async () => {
    const env = { XDG_CACHE_HOME: dir };
    await withStoreLock(env, 'a', () => withStoreLock(env, 'b', async () => undefined));
    await expect(readdir(join(dir, 'berth'))).resolves.toEqual([]);
    // Were a's lock left behind, this would wait for it to go stale (20 s).
    const started = Date.now();
    await withStoreLock(env, 'a', async () => undefined);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('breaks a lock at once when the process that holds it is gone', async () => {
    const lockPath = join(dir, 'berth', 'test.lock');
    await mkdir(lockPath, { recursive: true });
    await writeFile(join(lockPath, 'owner'), `${2 ** 22 + 7} ${hostname()} 00\n`); // no such pid
    const started = Date.now();
    expect(await withStoreLock({ XDG_CACHE_HOME: dir }, 'test', async () => 'done')).toBe('done');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await readdir(join(dir, 'berth'))).toEqual([]);
  });

  it.each([
    ['empty', ''],
    ['cut short', '12'],
  ])('breaks a lock whose owner file is %s (the holder was killed writing it) once it is a few seconds old', async (_name, owner) => {
    const lockPath = join(dir, 'berth', 'test.lock');
    await mkdir(lockPath, { recursive: true });
    await writeFile(join(lockPath, 'owner'), owner);
    const old = new Date(Date.now() - 10_000);
    await utimes(lockPath, old, old);
    const started = Date.now();
    expect(await withStoreLock({ XDG_CACHE_HOME: dir }, 'test', async () => 'done')).toBe('done');
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('keeps a lock whose holder is alive, and one from another host, until it goes stale', async () => {
    const lockPath = join(dir, 'berth', 'test.lock');
    await mkdir(lockPath, { recursive: true });
    await writeFile(join(lockPath, 'owner'), `${process.ppid} ${hostname()} 00\n`);
    let entered = false;
    const waiting = withStoreLock({ XDG_CACHE_HOME: dir }, 'test', async () => {
      entered = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(entered).toBe(false);
    await rm(lockPath, { recursive: true });
    await waiting;
    expect(entered).toBe(true);
  });
});
