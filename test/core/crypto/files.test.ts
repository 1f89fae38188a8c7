import { randomBytes } from 'node:crypto';
import { chmod, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { TamperedError } from '../../../core/crypto/errors.js';
import { OutputError, openSource, rekeyFiles, transformToFile } from '../../../core/crypto/files.js';
import { decryptBuffer, encryptBuffer, FileOpener, FileSealer } from '../../../core/crypto/format.js';
import { keyId } from '../../../core/crypto/key.js';
import { tempDir } from '../../fakes/temp.js';

const key = randomBytes(32);
const other = randomBytes(32);
let dir: string;
beforeEach(async () => {
  dir = await tempDir('berth-files-');
});

describe('transformToFile', () => {
  it('encrypts and decrypts file to file, plaintext with mode 0600', async () => {
    const plaintext = randomBytes(300_000);
    await writeFile(join(dir, 'plain'), plaintext);
    await transformToFile(await openSource(join(dir, 'plain')), new FileSealer([key]), join(dir, 'enc'), 0o644);
    await transformToFile(await openSource(join(dir, 'enc')), new FileOpener(key), join(dir, 'out'), 0o600);
    expect((await readFile(join(dir, 'out'))).equals(plaintext)).toBe(true);
    expect((await stat(join(dir, 'out'))).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'enc'))).mode & 0o777).toBe(0o644);
  });

  it('leaves no output and no temporary file when decryption fails late, and keeps an existing output', async () => {
    const file = encryptBuffer(randomBytes(200_000), [key]);
    file[file.length - 1] = file[file.length - 1]! ^ 1;
    await writeFile(join(dir, 'enc'), file);
    const run = async () => transformToFile(await openSource(join(dir, 'enc')), new FileOpener(key), join(dir, 'out'), 0o600);
    await expect(run()).rejects.toThrow(TamperedError);
    expect(await readdir(dir)).toEqual(['enc']);
    await writeFile(join(dir, 'out'), 'previous');
    await expect(run()).rejects.toThrow(TamperedError);
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('previous');
    expect((await readdir(dir)).sort()).toEqual(['enc', 'out']);
  });

  it('round-trips a file of several read batches and leaves nothing when its last batch is tampered', async () => {
    const plaintext = randomBytes(5 * 1024 * 1024 + 12_345);
    await writeFile(join(dir, 'plain'), plaintext);
    await transformToFile(await openSource(join(dir, 'plain')), new FileSealer([key]), join(dir, 'enc'), 0o644);
    await transformToFile(await openSource(join(dir, 'enc')), new FileOpener(key), join(dir, 'out'), 0o600);
    expect((await readFile(join(dir, 'out'))).equals(plaintext)).toBe(true);
    const file = await readFile(join(dir, 'enc'));
    file[file.length - 100] = file[file.length - 100]! ^ 1;
    await writeFile(join(dir, 'enc'), file);
    await rm(join(dir, 'out'));
    const run = async () => transformToFile(await openSource(join(dir, 'enc')), new FileOpener(key), join(dir, 'out'), 0o600);
    await expect(run()).rejects.toThrow(/chunk 80 failed authentication/);
    expect((await readdir(dir)).sort()).toEqual(['enc', 'plain']);
  });

  it('says when the output cannot be written', async () => {
    await writeFile(join(dir, 'plain'), 'x');
    await writeFile(join(dir, 'file'), 'x');
    const run = async () => transformToFile(await openSource(join(dir, 'plain')), new FileSealer([key]), join(dir, 'file', 'out'), 0o644);
    await expect(run()).rejects.toThrow(OutputError);
    await expect(run()).rejects.toThrow(/cannot write .*file\/out: a parent is not a directory/);
  });

  it('says when the input cannot be read', async () => {
    await expect(openSource(join(dir, 'missing'))).rejects.toThrow(UsageError);
    await expect(openSource(join(dir, 'missing'))).rejects.toThrow(/cannot read .*missing: no such file or directory/);
    await expect(openSource(dir)).rejects.toThrow(/is a directory/);
  });
});

describe('rekeyFiles', () => {
  it('rekeys every file in place, keeping each mode', async () => {
    await writeFile(join(dir, 'a'), encryptBuffer(Buffer.from('A'), [key]));
    await writeFile(join(dir, 'b'), encryptBuffer(Buffer.from('B'), [key], { armor: true }));
    await chmod(join(dir, 'b'), 0o640);
    const results = await rekeyFiles(['a', 'b'], key, { add: [other] }, { cwd: dir });
    expect(results.map((r) => [r.path, r.report.keyIds])).toEqual([
      ['a', [keyId(key), keyId(other)]],
      ['b', [keyId(key), keyId(other)]],
    ]);
    expect(decryptBuffer(await readFile(join(dir, 'a')), other).toString()).toBe('A');
    expect(decryptBuffer(await readFile(join(dir, 'b')), other).toString()).toBe('B');
    expect((await stat(join(dir, 'b'))).mode & 0o777).toBe(0o640);
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']);
  });

  it('changes no file when one of them fails, and names the one that failed', async () => {
    const a = encryptBuffer(Buffer.from('A'), [key]);
    await writeFile(join(dir, 'a'), a);
    await writeFile(join(dir, 'b'), encryptBuffer(Buffer.from('B'), [other]));
    await expect(rekeyFiles(['a', 'b'], key, { add: [other] }, { cwd: dir })).rejects.toThrow(/^b: wrong key/);
    expect((await readFile(join(dir, 'a'))).equals(a)).toBe(true);
    expect((await readdir(dir)).sort()).toEqual(['a', 'b']);
  });
});
