import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { KeyFormatError, NoKeyError } from '../../../core/crypto/errors.js';
import { formatKey, generateKey } from '../../../core/crypto/key.js';
import { findKey } from '../../../core/crypto/key-source.js';
import { tempDir } from '../../fakes/temp.js';

let cwd: string;
const keys = { flag: generateKey(), env: generateKey(), berth: generateKey(), codeship: generateKey() };

beforeEach(async () => {
  cwd = await tempDir('berth-key-source-');
  await writeFile(join(cwd, 'flag.aes'), formatKey(keys.flag), { mode: 0o600 });
  await writeFile(join(cwd, 'berth.aes'), formatKey(keys.berth), { mode: 0o600 });
  await writeFile(join(cwd, 'codeship.aes'), formatKey(keys.codeship), { mode: 0o600 });
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
});
