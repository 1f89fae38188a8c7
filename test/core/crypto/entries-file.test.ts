/**
 * The encrypted entries file behind the file store and the disk cache: one key made on first use
 * however many writers race for it, no entry lost, and a clear error (or, for a cache, an empty
 * file) when it cannot be read.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EntriesFileError, entriesFile, stringField } from '../../../core/crypto/entries-file.js';
import { readOrCreateKeyFile } from '../../../core/crypto/key.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-entries-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const checkEntry = (value: unknown) => ({ secret: stringField(value, 'secret') });
const open = (onUnreadable?: (err: EntriesFileError) => void) =>
  entriesFile({
    path: join(dir, 'entries.berth'),
    keyPath: join(dir, 'key', 'entries.aes'),
    what: 'the test file',
    checkEntry,
    ...(onUnreadable ? { onUnreadable } : {}),
  });

describe('entriesFile', () => {
  it('is empty before the first write, and makes its key (0600) only when it writes', async () => {
    const file = open();
    expect(await file.read()).toEqual({});
    await expect(stat(join(dir, 'key', 'entries.aes'))).rejects.toMatchObject({ code: 'ENOENT' });
    await file.update((entries) => {
      entries.a = { secret: 's' };
    });
    expect(await open().read()).toEqual({ a: { secret: 's' } });
    expect((await stat(join(dir, 'key', 'entries.aes'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'entries.berth'))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dir, 'entries.berth'))).includes('"secret"')).toBe(false);
  });

  it('a write whose lock another process took over meanwhile fails and leaves the file as it was', async () => {
    const file = open();
    await file.update((entries) => {
      entries.kept = { secret: 'first' };
    });
    const before = await readFile(join(dir, 'entries.berth'));
    const lock = join(dir, 'entries.berth.lock');
    await expect(
      file.update((entries) => {
        entries.late = { secret: 'second' };
        // what a waiter that wrongly judged this holder gone leaves: the lock, under another owner
        rmSync(lock, { recursive: true });
        mkdirSync(lock);
        writeFileSync(join(lock, 'owner'), `1 ${hostname()} 0123456789abcdef\n`);
      }),
    ).rejects.toThrow(/lost the lock on the test file .*nothing was written/);
    expect((await readFile(join(dir, 'entries.berth'))).equals(before)).toBe(true);
    expect(await open().read()).toEqual({ kept: { secret: 'first' } });
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('first writers racing for the key end with one key and every entry', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        open().update((entries) => {
          entries[`r${n}`] = { secret: `s${n}` };
        }),
      ),
    );
    expect(Object.keys(await open().read())).toHaveLength(20);
    expect(await readdir(join(dir, 'key'))).toEqual(['entries.aes']);
  });

  it('says which file it cannot open; a file without its key is named as such', async () => {
    await open().update((entries) => {
      entries.a = { secret: 's' };
    });
    await writeFile(join(dir, 'entries.berth'), 'garbage');
    await expect(open().read()).rejects.toThrow(/^cannot open the test file .*entries\.berth: not a berth encrypted file$/);
    await rm(join(dir, 'key'), { recursive: true });
    const err = await open()
      .read()
      .then(
        () => undefined,
        (e: unknown) => e as EntriesFileError,
      );
    expect(err).toBeInstanceOf(EntriesFileError);
    expect(err?.reason).toBe('no-key');
    expect(err?.message).toMatch(/^the test file .*entries\.berth exists but its key file .*entries\.aes is missing$/);
  });

  it('with onUnreadable, an unreadable file is empty and the next write replaces it', async () => {
    const notes: string[] = [];
    const file = open((err) => notes.push(err.reason));
    await file.update((entries) => {
      entries.a = { secret: 's' };
    });
    await writeFile(join(dir, 'entries.berth'), 'garbage');
    expect(await file.read()).toEqual({});
    await file.update((entries) => {
      entries.b = { secret: 't' };
    });
    expect(await file.read()).toEqual({ b: { secret: 't' } });
    expect(notes).toEqual(['unreadable', 'unreadable']);
  });

  it('a write to a file whose key is gone is refused, makes no key and leaves the file as it was', async () => {
    const keyPath = join(dir, 'key', 'entries.aes');
    await open().update((entries) => {
      entries.a = { secret: 's' };
    });
    const key = await readFile(keyPath);
    const sealed = await readFile(join(dir, 'entries.berth'));
    await rm(keyPath);
    await expect(
      open().update((entries) => {
        entries.b = { secret: 't' };
      }),
    ).rejects.toMatchObject({ reason: 'no-key', message: expect.stringMatching(/exists but its key file .*entries\.aes is missing$/) });
    await expect(stat(keyPath)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(dir, 'entries.berth'))).toEqual(sealed);
    // the key put back opens the file, and writes go on
    await writeFile(keyPath, key, { mode: 0o600 });
    await open().update((entries) => {
      entries.b = { secret: 't' };
    });
    expect(await open().read()).toEqual({ a: { secret: 's' }, b: { secret: 't' } });
  });

  it('a file that may be replaced (a cache) gets a new key when its key is gone', async () => {
    await open().update((entries) => {
      entries.a = { secret: 's' };
    });
    await rm(join(dir, 'key', 'entries.aes'));
    const notes: string[] = [];
    await open((err) => notes.push(err.reason)).update((entries) => {
      entries.b = { secret: 't' };
    });
    expect(await open().read()).toEqual({ b: { secret: 't' } });
    expect(notes).toEqual(['unreadable']);
  });

  it('names a malformed entry', async () => {
    const loose = entriesFile({
      path: join(dir, 'entries.berth'),
      keyPath: join(dir, 'k.aes'),
      what: 'the test file',
      checkEntry: (v) => v,
    });
    await loose.update((entries) => {
      entries.bad = { secret: 42 };
    });
    await expect(
      entriesFile({ path: join(dir, 'entries.berth'), keyPath: join(dir, 'k.aes'), what: 'the test file', checkEntry }).read(),
    ).rejects.toThrow(/: entry "bad" is malformed: "secret" is not a string$/);
  });
});

describe('readOrCreateKeyFile', () => {
  it('two processes creating the key at once both end with the one key on disk', async () => {
    const entry = join(dir, 'make-key.ts');
    await writeFile(
      entry,
      `import { readOrCreateKeyFile } from ${JSON.stringify(resolve('core/crypto/key.ts'))};\n` +
        `const key = await readOrCreateKeyFile(process.argv[2]);\nprocess.stdout.write(key.toString('base64'));\n`,
    );
    await build({
      entryPoints: [entry],
      outfile: join(dir, 'make-key.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      logLevel: 'silent',
    });
    const keyPath = join(dir, 'race', 'shared.aes');
    const run = () =>
      new Promise<string>((done, fail) => {
        const child = spawn(process.execPath, [join(dir, 'make-key.mjs'), keyPath], { stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
        child.on('close', (code) => (code === 0 ? done(out) : fail(new Error(`exit ${code}`))));
      });
    for (let round = 0; round < 3; round++) {
      await rm(join(dir, 'race'), { recursive: true, force: true });
      const keys = await Promise.all([run(), run(), run(), run()]);
      const onDisk = (await readFile(keyPath, 'utf8')).trim();
      expect(new Set(keys)).toEqual(new Set([onDisk]));
      expect(await readdir(join(dir, 'race'))).toEqual(['shared.aes']);
    }
    expect((await readOrCreateKeyFile(keyPath)).toString('base64')).toBe((await readFile(keyPath, 'utf8')).trim());
  });
});
