import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decryptBuffer, encryptBuffer } from '../../../core/crypto/format.js';
import { parseKey } from '../../../core/crypto/key.js';
import { quickOpen } from '../../../core/crypto/quick-open.js';

/** What format.ts makes of the file: its plaintext, or undefined when it refuses it. */
function formatOpen(file: Uint8Array, key: Uint8Array): Buffer | undefined {
  try {
    return decryptBuffer(file, key);
  } catch {
    return undefined;
  }
}

/** quickOpen either agrees with format.ts or passes (undefined); it never opens what format.ts refuses. */
async function expectAgreement(file: Uint8Array, key: Uint8Array): Promise<Buffer | undefined> {
  const quick = await quickOpen(file, key);
  const reference = formatOpen(file, key);
  if (quick !== undefined) {
    expect(reference).toBeDefined();
    expect(quick.equals(reference as Buffer)).toBe(true);
  }
  return quick;
}

describe('quickOpen (WebCrypto) against format.ts', () => {
  const dir = join(import.meta.dirname, '../../vectors/berth-v1');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { file: string; key: string; error?: string }[];
  for (const vector of manifest) {
    it(`${vector.file}: ${vector.error ? 'refused' : 'opened'} as format.ts does`, async () => {
      const file = readFileSync(join(dir, vector.file));
      const key = parseKey(readFileSync(join(dir, vector.key), 'utf8'), vector.key);
      const quick = await expectAgreement(file, key);
      // Every intact binary file opens quickly; armored text is left to format.ts.
      if (vector.error) expect(quick).toBeUndefined();
      else if (!vector.file.endsWith('.asc')) expect(quick).toBeDefined();
    });
  }

  const key = randomBytes(32);
  const plaintexts = fc.uint8Array({ maxLength: 5000 });
  const smallChunks = { chunkExponent: 10 };

  it('opens what format.ts writes, for one key among several and chunk boundaries', async () => {
    await fc.assert(
      fc.asyncProperty(plaintexts, fc.boolean(), async (plaintext, twoKeys) => {
        const file = encryptBuffer(plaintext, twoKeys ? [randomBytes(32), key] : [key], smallChunks);
        expect((await quickOpen(file, key))?.equals(Buffer.from(plaintext))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses every single-byte change, truncation and appended byte', async () => {
    await fc.assert(
      fc.asyncProperty(plaintexts, fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), async (plaintext, position, mask, cut) => {
        const file = encryptBuffer(plaintext, [key], smallChunks);
        const flipped = Buffer.from(file);
        const at = position % file.length;
        flipped[at] = flipped[at]! ^ mask;
        expect(await quickOpen(flipped, key)).toBeUndefined();
        expect(await quickOpen(file.subarray(0, cut % file.length), key)).toBeUndefined();
        expect(await quickOpen(Buffer.concat([file, Buffer.from([0])]), key)).toBeUndefined();
      }),
      { numRuns: 300 },
    );
  });

  it('refuses another key', async () => {
    expect(await quickOpen(encryptBuffer(Buffer.from('x'), [key]), randomBytes(32))).toBeUndefined();
  });
});
