import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FormatError } from '../../../core/errors.js';
import { decryptBuffer, encryptBuffer } from '../../../core/crypto/format.js';

// 1 KiB chunks (exponent 10, the smallest readers accept) so short plaintexts span many chunks.
const options = { chunkExponent: 10 };
const key = randomBytes(32);
const plaintexts = fc.uint8Array({ maxLength: 5000 });

/** The error decryptBuffer throws, or undefined when it succeeds. */
function failure(file: Uint8Array): unknown {
  try {
    decryptBuffer(file, key);
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('encrypted files (property-based)', () => {
  it('random plaintexts round-trip, binary and armored', () => {
    fc.assert(
      fc.property(plaintexts, fc.boolean(), (plaintext, armor) => {
        const file = encryptBuffer(plaintext, [key], { ...options, armor });
        expect(decryptBuffer(file, key).equals(Buffer.from(plaintext))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('any single-byte change is rejected with a FormatError', () => {
    fc.assert(
      fc.property(plaintexts, fc.nat(), fc.integer({ min: 1, max: 255 }), (plaintext, position, mask) => {
        const file = encryptBuffer(plaintext, [key], options);
        const at = position % file.length;
        file[at] = file[at]! ^ mask;
        expect(failure(file)).toBeInstanceOf(FormatError);
      }),
      { numRuns: 500 },
    );
  });

  it('any truncation is rejected with a FormatError', () => {
    fc.assert(
      fc.property(plaintexts, fc.nat(), (plaintext, cut) => {
        const file = encryptBuffer(plaintext, [key], options);
        expect(failure(file.subarray(0, cut % file.length))).toBeInstanceOf(FormatError);
      }),
      { numRuns: 500 },
    );
  });

  it('in armored text, a single-byte change is rejected or changes nothing that decrypts', () => {
    // Armor tolerates CRLF, so turning the final "\n" into "\r" still reads as the same file; every
    // change to the data itself must fail.
    fc.assert(
      fc.property(plaintexts, fc.nat(), fc.integer({ min: 1, max: 255 }), (plaintext, position, mask) => {
        const file = encryptBuffer(plaintext, [key], { ...options, armor: true });
        const at = position % file.length;
        file[at] = file[at]! ^ mask;
        const error = failure(file);
        if (error === undefined) expect(decryptBuffer(file, key).equals(Buffer.from(plaintext))).toBe(true);
        else expect(error).toBeInstanceOf(FormatError);
      }),
      { numRuns: 300 },
    );
  });
});
