import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TamperedError, TruncatedError } from '../../../core/crypto/errors.js';
import { PayloadOpener, PayloadSealer } from '../../../core/crypto/stream.js';

const CHUNK = 1024;
const key = randomBytes(32);

function seal(plaintext: Buffer, pieceSize: number): Buffer[] {
  const sealer = new PayloadSealer(key, CHUNK);
  const out: Buffer[] = [];
  for (let at = 0; at < plaintext.length; at += pieceSize) out.push(...sealer.write(plaintext.subarray(at, at + pieceSize)));
  return [...out, ...sealer.end()];
}

function open(payload: Buffer, pieceSize = 100): Buffer {
  const opener = new PayloadOpener(key, CHUNK);
  const out: Buffer[] = [];
  for (let at = 0; at < payload.length; at += pieceSize) out.push(...opener.write(payload.subarray(at, at + pieceSize)));
  return Buffer.concat([...out, ...opener.end()]);
}

describe('STREAM payload', () => {
  // Boundaries 0, n−1, n, n+1 for one and two chunks.
  for (const size of [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK - 1, 2 * CHUNK, 2 * CHUNK + 1]) {
    it(`${size} bytes: ${Math.max(1, Math.ceil(size / CHUNK))} sealed chunk(s), round trip`, () => {
      const plaintext = randomBytes(size);
      const payload = Buffer.concat(seal(plaintext, 333));
      const chunks = Math.max(1, Math.ceil(size / CHUNK));
      expect(payload.length).toBe(size + 16 * chunks);
      expect(open(payload).equals(plaintext)).toBe(true);
      expect(open(payload, 1).equals(plaintext)).toBe(true);
    });
  }

  it('writes no chunk until it knows whether it is the last', () => {
    const sealer = new PayloadSealer(key, CHUNK);
    expect(sealer.write(randomBytes(CHUNK))).toEqual([]);
    expect(sealer.write(randomBytes(1)).length).toBe(2); // ciphertext and tag of chunk 0
  });

  it('keeps failing once it failed (sticky errors)', () => {
    const payload = Buffer.concat(seal(randomBytes(3 * CHUNK), 500));
    payload[10] = payload[10]! ^ 1;
    const opener = new PayloadOpener(key, CHUNK);
    expect(() => opener.write(payload)).toThrow(TamperedError);
    expect(() => opener.write(Buffer.alloc(0))).toThrow(TamperedError);
    expect(() => opener.end()).toThrow(TamperedError);
  });

  it('tells truncation from tampering at chunk boundaries', () => {
    const payload = Buffer.concat(seal(randomBytes(2 * CHUNK + 10), 500));
    expect(() => open(payload.subarray(0, CHUNK + 16))).toThrow(TruncatedError);
    expect(() => open(payload.subarray(0, 2 * (CHUNK + 16)))).toThrow(/ends after chunk 1 without the final chunk/);
    expect(() => open(payload.subarray(0, 2 * (CHUNK + 16) + 5))).toThrow(/chunk 2 is incomplete/);
    expect(() => open(Buffer.alloc(0))).toThrow(/ends after the header/);
  });
});
