import { readFile, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { KeyFormatError } from '../../../core/crypto/errors.js';
import { formatKey, generateKey, KEY_BYTES, keyId, parseKey, readKeyFile, writeKeyFile } from '../../../core/crypto/key.js';
import { tempDir } from '../../fakes/temp.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir('berth-key-');
});

describe('parseKey', () => {
  const text = 'E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo='; // the public codeship.aes example

  it('reads 44 characters of base64, with surrounding whitespace', () => {
    expect(parseKey(`  ${text}\r\n`, 'k').toString('base64')).toBe(text);
    expect(parseKey(text, 'k').length).toBe(KEY_BYTES);
  });

  const bad: [string, string, RegExp][] = [
    ['empty', '', /in ci\.aes: it is empty/],
    ['short', text.slice(0, 40), /expected 44 base64 characters, found 40/],
    ['long', `${text}AAAA`, /found 48/],
    ['not base64', `${text.slice(0, 42)}!=`, /not base64/],
    ['two lines', `${text.slice(0, 20)}\n${text.slice(20)}`, /more than one line/],
    ['non-canonical', `${text.slice(0, 42)}p=`, /not canonical/],
  ];
  for (const [what, input, message] of bad) {
    it(`rejects ${what} text, naming the source`, () => {
      expect(() => parseKey(input, 'ci.aes')).toThrow(KeyFormatError);
      expect(() => parseKey(input, 'ci.aes')).toThrow(message);
    });
  }
});

describe('keyId', () => {
  it('is 16 hex characters, stable, different per key, and not a plain hash of the key', () => {
    const key = generateKey();
    expect(keyId(key)).toMatch(/^[0-9a-f]{16}$/);
    expect(keyId(Buffer.from(key))).toBe(keyId(key));
    expect(keyId(generateKey())).not.toBe(keyId(key));
    // Pinned: HMAC-SHA256(key, "berth key id v1")[0..8] of the public codeship.aes example.
    expect(keyId(parseKey('E6kwQsGsIGMWrDQYmfnUcnHb+Yq2slOHH4/IBkVzaHo=', 'k'))).toBe('9dd8e9127a2106ad');
  });
});

describe('key files', () => {
  it('writes base64 and a newline with mode 0600, creating the directory 0700', async () => {
    const path = join(dir, 'nested', 'berth.aes');
    const key = generateKey();
    await writeKeyFile(path, key);
    expect(await readFile(path, 'utf8')).toBe(formatKey(key));
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'nested'))).mode & 0o777).toBe(0o700);
    expect((await readKeyFile(path)).equals(key)).toBe(true);
  });

  it('refuses to overwrite unless forced, and leaves no temporary file', async () => {
    const path = join(dir, 'berth.aes');
    const first = generateKey();
    await writeKeyFile(path, first);
    await expect(writeKeyFile(path, generateKey())).rejects.toThrow(/already exists/);
    expect((await readKeyFile(path)).equals(first)).toBe(true);
    const second = generateKey();
    await writeKeyFile(path, second, { force: true });
    expect((await readKeyFile(path)).equals(second)).toBe(true);
    expect(await readdir(dir)).toEqual(['berth.aes']);
  });

  it('names the file when it is missing or malformed', async () => {
    await expect(readKeyFile(join(dir, 'none.aes'))).rejects.toThrow(UsageError);
    await expect(readKeyFile(join(dir, 'none.aes'))).rejects.toThrow(/cannot read key file .*none\.aes: no such file/);
    await writeFile(join(dir, 'bad.aes'), 'not a key\n');
    await expect(readKeyFile(join(dir, 'bad.aes'))).rejects.toThrow(/malformed key in .*bad\.aes/);
  });
});
