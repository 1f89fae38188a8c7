import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyFormatError, NoKeyError } from '../../../core/crypto/errors.js';
import { formatKey, generateKey } from '../../../core/crypto/key.js';
import { findKey, findKeys } from '../../../core/crypto/key-source.js';

let cwd: string;
const keys = { flag: generateKey(), env: generateKey(), berth: generateKey(), codeship: generateKey() };

beforeEach(async () => {
  cwd = await mkdtemp(join(tmpdir(), 'berth-key-source-'));
  await writeFile(join(cwd, 'flag.aes'), formatKey(keys.flag), { mode: 0o600 });
  await writeFile(join(cwd, 'berth.aes'), formatKey(keys.berth), { mode: 0o600 });
  await writeFile(join(cwd, 'codeship.aes'), formatKey(keys.codeship), { mode: 0o600 });
});
afterEach(async () => {
  await rm(cwd, { recursive: true, force: true });
});

const env = { BERTH_AES_KEY: formatKey(keys.env).trim() };

describe('findKey', () => {
  it('looks in order: --key-path, BERTH_AES_KEY, ./berth.aes, ./codeship.aes', async () => {
    expect((await findKey({ keyPath: 'flag.aes', env, cwd })).key.equals(keys.flag)).toBe(true);
    expect(await findKey({ env, cwd })).toMatchObject({ key: keys.env, source: 'BERTH_AES_KEY' });
    expect(await findKey({ env: {}, cwd })).toMatchObject({ key: keys.berth, source: './berth.aes' });
    await rm(join(cwd, 'berth.aes'));
    expect(await findKey({ env: {}, cwd })).toMatchObject({ key: keys.codeship, source: './codeship.aes' });
  });

  it('says where it looked when there is no key', async () => {
    await rm(join(cwd, 'berth.aes'));
    await rm(join(cwd, 'codeship.aes'));
    await expect(findKey({ env: {}, cwd })).rejects.toThrow(NoKeyError);
    await expect(findKey({ env: {}, cwd })).rejects.toThrow(
      'no key found (looked in --key-path, BERTH_AES_KEY, ./berth.aes, ./codeship.aes)',
    );
  });

  it('rejects a malformed BERTH_AES_KEY by name instead of falling through to a file', async () => {
    await expect(findKey({ env: { BERTH_AES_KEY: 'abc' }, cwd })).rejects.toThrow(KeyFormatError);
    await expect(findKey({ env: { BERTH_AES_KEY: 'abc' }, cwd })).rejects.toThrow(/malformed key in BERTH_AES_KEY/);
  });

  it('warns when a key file is readable by group or others', async () => {
    expect((await findKey({ env: {}, cwd })).warnings).toEqual([]);
    await chmod(join(cwd, 'berth.aes'), 0o644);
    expect((await findKey({ env: {}, cwd })).warnings).toEqual([
      'key file ./berth.aes is accessible by group or others (mode 0644); run: chmod 600 ./berth.aes',
    ]);
  });

  // chown needs root; CI runs as root, so there the case always runs.
  const asRoot = process.getuid?.() === 0;
  it.skipIf(!asRoot && !process.env.CI)('refuses ./berth.aes owned by another user, naming the owner', async () => {
    await chown(join(cwd, 'berth.aes'), 65534, 65534);
    await expect(findKey({ env: {}, cwd })).rejects.toThrow(KeyFormatError);
    await expect(findKey({ env: {}, cwd })).rejects.toThrow(
      /^key file \.\/berth\.aes belongs to (nobody \()?uid 65534\)?, not to you; refusing to use it$/,
    );
    await chown(join(cwd, 'codeship.aes'), 65534, 65534);
    await rm(join(cwd, 'berth.aes'));
    await expect(findKeys({ env: {}, cwd })).rejects.toThrow(/key file \.\/codeship\.aes belongs to/);
    // A key named on the command line is the user's choice.
    await chown(join(cwd, 'flag.aes'), 65534, 65534);
    expect((await findKey({ keyPath: 'flag.aes', env: {}, cwd })).key.equals(keys.flag)).toBe(true);
  });
});

describe('findKeys', () => {
  it('returns every key found, in lookup order, without duplicates', async () => {
    const found = await findKeys({ keyPath: 'flag.aes', env, cwd });
    expect(found.map(({ source }) => source)).toEqual(['flag.aes', 'BERTH_AES_KEY', './berth.aes', './codeship.aes']);
    expect(found.map(({ key }) => key)).toEqual([keys.flag, keys.env, keys.berth, keys.codeship]);
    await writeFile(join(cwd, 'codeship.aes'), formatKey(keys.berth), { mode: 0o600 });
    expect((await findKeys({ env: {}, cwd })).map(({ source }) => source)).toEqual(['./berth.aes']);
  });

  it('fails on the first key found, and leaves out a broken spare after it', async () => {
    await writeFile(join(cwd, 'codeship.aes'), 'not a key\n', { mode: 0o600 });
    expect((await findKeys({ env: {}, cwd })).map(({ source }) => source)).toEqual(['./berth.aes']);
    await expect(findKeys({ env: { BERTH_AES_KEY: 'abc' }, cwd })).rejects.toThrow(/malformed key in BERTH_AES_KEY/);
    await rm(join(cwd, 'berth.aes'));
    await expect(findKeys({ env: {}, cwd })).rejects.toThrow(KeyFormatError);
  });
});
