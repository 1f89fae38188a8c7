import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { TamperedError, WrongKeyError } from '../../../core/crypto/errors.js';
import { decryptBuffer, encryptBuffer } from '../../../core/crypto/format.js';
import { keyId, parseKey } from '../../../core/crypto/key.js';
import { Rekeyer, type RekeyChanges } from '../../../core/crypto/rekey.js';

const [keyA, keyB, keyC] = [randomBytes(32), randomBytes(32), randomBytes(32)];
const plaintext = randomBytes(150_000);

function rekey(file: Buffer, oldKey: Buffer, changes: RekeyChanges, pieceSize = 5000): { file: Buffer; rekeyer: Rekeyer } {
  const rekeyer = new Rekeyer(oldKey, changes);
  const out: Buffer[] = [];
  for (let at = 0; at < file.length; at += pieceSize) out.push(...rekeyer.write(file.subarray(at, at + pieceSize)));
  return { file: Buffer.concat([...out, ...rekeyer.end()]), rekeyer };
}

describe('rekey', () => {
  it('adds a key without touching the payload', () => {
    const file = encryptBuffer(plaintext, [keyA]);
    const { file: rekeyed, rekeyer } = rekey(file, keyA, { add: [keyB] });
    expect(rekeyer.report).toEqual({ format: 'binary', keyIds: [keyId(keyA), keyId(keyB)], added: [keyId(keyB)], removed: [] });
    expect(rekeyed.length).toBe(file.length + 68);
    expect(rekeyed.subarray(-150_000).equals(file.subarray(-150_000))).toBe(true);
    expect(decryptBuffer(rekeyed, keyA).equals(plaintext)).toBe(true);
    expect(decryptBuffer(rekeyed, keyB).equals(plaintext)).toBe(true);
  });

  it('rotates: adds the new key and removes the old one', () => {
    const file = encryptBuffer(plaintext, [keyA, keyB]);
    const { file: rotated } = rekey(file, keyA, { add: [keyC], remove: [keyId(keyA)] });
    expect(() => decryptBuffer(rotated, keyA)).toThrow(WrongKeyError);
    expect(decryptBuffer(rotated, keyB).equals(plaintext)).toBe(true);
    expect(decryptBuffer(rotated, keyC).equals(plaintext)).toBe(true);
  });

  it('keeps armored files armored', () => {
    const { file: rekeyed, rekeyer } = rekey(encryptBuffer(plaintext, [keyA], { armor: true }), keyA, { add: [keyB] }, 333);
    expect(rekeyer.report.format).toBe('armor');
    expect(rekeyed.subarray(0, 36).toString()).toBe('-----BEGIN BERTH ENCRYPTED FILE-----');
    expect(decryptBuffer(rekeyed, keyB).equals(plaintext)).toBe(true);
  });

  it('refuses to remove every key, or a key the file does not have', () => {
    const file = encryptBuffer(plaintext, [keyA]);
    expect(() => rekey(file, keyA, { remove: [keyId(keyA)] })).toThrow(/cannot remove every key/);
    expect(() => rekey(file, keyA, { remove: [keyId(keyB)] })).toThrow(UsageError);
  });

  it('needs a key that opens the file, and an intact header', () => {
    const file = encryptBuffer(plaintext, [keyA]);
    expect(() => rekey(file, keyB, { add: [keyC] })).toThrow(WrongKeyError);
    const tampered = Buffer.from(file);
    tampered[46 + 68 + 5] = tampered[46 + 68 + 5]! ^ 1; // the header MAC
    expect(() => rekey(tampered, keyA, { add: [keyC] })).toThrow(TamperedError);
  });

  it('turns a legacy jet file into an armored berth file for the old and added keys', () => {
    const dir = join(import.meta.dirname, '../../vectors/jet-legacy');
    const jetKey = parseKey(readFileSync(join(dir, 'codeship.aes'), 'utf8'), 'codeship.aes');
    const expected = readFileSync(join(dir, 'environment.expected'));
    const { file: converted, rekeyer } = rekey(readFileSync(join(dir, 'environment.encrypted')), jetKey, { add: [keyA] });
    expect(rekeyer.report).toMatchObject({ format: 'legacy', keyIds: [keyId(jetKey), keyId(keyA)] });
    expect(converted.toString('latin1')).toMatch(/^-----BEGIN BERTH ENCRYPTED FILE-----\n/);
    expect(decryptBuffer(converted, keyA).equals(expected)).toBe(true);
    expect(decryptBuffer(converted, jetKey).equals(expected)).toBe(true);
    const { file: onlyNew } = rekey(readFileSync(join(dir, 'environment.encrypted')), jetKey, { add: [keyA], remove: [keyId(jetKey)] });
    expect(() => decryptBuffer(onlyNew, jetKey)).toThrow(WrongKeyError);
  });
});
