/** withStoreLock: writers that read, wait and write back lose nothing when they hold the lock. */
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withStoreLock } from '../../../core/io/lock.js';

describe('withStoreLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
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

  it("returns the work's result, releases the lock after a failure, and keeps the error", async () => {
    const env = { XDG_CACHE_HOME: dir };
    await expect(withStoreLock(env, 'test', async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(withStoreLock(env, 'test', async () => 42)).resolves.toBe(42);
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
