import { createCipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotBerthFileError, WrongKeyError } from '../../../core/crypto/errors.js';
import { decryptBuffer } from '../../../core/crypto/format.js';
import { keyId, parseKey } from '../../../core/crypto/key.js';

const dir = join(import.meta.dirname, '../../vectors/jet-legacy');
const key = parseKey(readFileSync(join(dir, 'codeship.aes'), 'utf8'), 'codeship.aes');
const file = readFileSync(join(dir, 'environment.encrypted'));
const expected = readFileSync(join(dir, 'environment.expected'));

/** What jet (before 2.6.0) wrote: base64(IV ‖ AES-256-CFB(key, IV, plaintext)). */
function jetEncrypt(plaintext: Buffer, jetKey: Buffer): Buffer {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cfb', jetKey, iv);
  return Buffer.from(Buffer.concat([iv, cipher.update(plaintext), cipher.final()]).toString('base64'));
}

describe('legacy jet files', () => {
  it('decrypts the public Codeship vector exactly, and says it was legacy', () => {
    let warned = 0;
    expect(decryptBuffer(file, key, { onLegacy: () => warned++ }).equals(expected)).toBe(true);
    expect(warned).toBe(1);
  });

  it('is refused unless the caller accepts legacy files', () => {
    expect(() => decryptBuffer(file, key)).toThrow(NotBerthFileError);
  });

  it('reads files with a trailing newline or wrapped lines', () => {
    const text = Buffer.from('A=1\nB=two words\n');
    const encrypted = jetEncrypt(text, key).toString();
    const wrapped = `${encrypted.replace(/.{40}/g, '$&\n')}\n`;
    expect(decryptBuffer(Buffer.from(wrapped), key, { onLegacy: () => {} }).equals(text)).toBe(true);
  });

  it('names a wrong key: the output would be binary garbage, not text', () => {
    const other = randomBytes(32);
    expect(() => decryptBuffer(file, other, { onLegacy: () => {} })).toThrow(WrongKeyError);
    expect(() => decryptBuffer(file, other, { onLegacy: () => {} })).toThrow(`key ${keyId(other)} decrypts it to binary garbage`);
  });

  it('rejects base64 too short to hold the IV, and base64 with junk in it', () => {
    expect(() => decryptBuffer(Buffer.from('QUFBQUFBQUFBQUFBQUFBQUFBQUFB'), key, { onLegacy: () => {} })).toThrow(WrongKeyError);
    expect(() => decryptBuffer(Buffer.from(`${file.toString()}!!`), key, { onLegacy: () => {} })).toThrow(NotBerthFileError);
    // a line of text appended: taken as legacy by its start, so the error does not say it never was
    expect(() => decryptBuffer(Buffer.from(`${file.toString()}\nextra line\n`), key, { onLegacy: () => {} })).toThrow(
      /^not a legacy jet file after all: past its start it holds text that is not base64$/,
    );
    expect(() => decryptBuffer(Buffer.from('QUFBQUFBQUFBQUFBQUFBQUFBQUFB'.slice(0, 20)), key, { onLegacy: () => {} })).toThrow(
      NotBerthFileError,
    );
  });

  it('says codeship:v2 is not supported instead of producing garbage', () => {
    const v2 = Buffer.from(`codeship:v2\n${file.toString()}`);
    expect(() => decryptBuffer(v2, key, { onLegacy: () => {} })).toThrow(/codeship:v2 files \(jet 2\.6\.0 and later\) are not supported/);
  });
});
