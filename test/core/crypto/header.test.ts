import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { NotBerthFileError, TamperedError, WrongKeyError } from '../../../core/crypto/errors.js';
import { MAGIC, newHeader, parseHeader, serializeHeader, unwrapFileKey, verifyHeader, wrapFileKey } from '../../../core/crypto/header.js';
import { keyIdBytes } from '../../../core/crypto/key.js';

const userKeys = [randomBytes(32), randomBytes(32)];

function sample() {
  const { header, fileKey } = newHeader();
  const full = { ...header, blocks: userKeys.map((key) => wrapFileKey(header, fileKey, key)) };
  return { header: full, fileKey, bytes: serializeHeader(full, fileKey) };
}

describe('header', () => {
  it('has the documented layout', () => {
    const { header, bytes } = sample();
    expect(bytes.length).toBe(46 + 2 * 68 + 32);
    expect(bytes.subarray(0, 10).equals(MAGIC)).toBe(true);
    expect([...bytes.subarray(10, 13)]).toEqual([1, 1, 16]);
    expect(bytes.subarray(13, 45).equals(header.salt)).toBe(true);
    expect(bytes[45]).toBe(2);
    expect(bytes.subarray(46, 54).equals(keyIdBytes(userKeys[0]!))).toBe(true);
    expect(bytes.subarray(46 + 68, 54 + 68).equals(keyIdBytes(userKeys[1]!))).toBe(true);
  });

  it('parses back, unwraps with each key and verifies', () => {
    const { fileKey, bytes } = sample();
    const parsed = parseHeader(Buffer.concat([bytes, Buffer.from('payload')]))!;
    expect(parsed.length).toBe(bytes.length);
    for (const key of userKeys) {
      const unwrapped = unwrapFileKey(parsed.header, key);
      expect(unwrapped.equals(fileKey)).toBe(true);
      expect(() => verifyHeader(parsed, unwrapped)).not.toThrow();
    }
  });

  it('asks for more bytes until the header is complete', () => {
    const { bytes } = sample();
    for (const length of [0, 10, 46, bytes.length - 1]) expect(parseHeader(bytes.subarray(0, length))).toBeUndefined();
  });

  it('rejects unknown versions, algorithms, chunk sizes and zero keys', () => {
    const { bytes } = sample();
    const at = (offset: number, value: number) =>
      Buffer.concat([bytes.subarray(0, offset), Buffer.from([value]), bytes.subarray(offset + 1)]);
    expect(() => parseHeader(at(10, 9))).toThrow(/unsupported berth file version 9/);
    expect(() => parseHeader(at(11, 2))).toThrow(/unsupported algorithm 2/);
    expect(() => parseHeader(at(12, 40))).toThrow(/chunk size exponent 40/);
    expect(() => parseHeader(at(45, 0))).toThrow(NotBerthFileError);
  });

  it('names both sides for a wrong key, and catches a changed MAC', () => {
    const { bytes, fileKey } = sample();
    const parsed = parseHeader(bytes)!;
    expect(() => unwrapFileKey(parsed.header, randomBytes(32))).toThrow(WrongKeyError);
    const changed = Buffer.from(bytes);
    changed[changed.length - 1] = changed[changed.length - 1]! ^ 1;
    expect(() => verifyHeader(parseHeader(changed)!, fileKey)).toThrow(TamperedError);
  });
});
