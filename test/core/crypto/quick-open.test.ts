import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

describe('quickOpen (node:crypto) against format.ts', () => {
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

describe('quickOpen under the standalone executable runtime (bun: HMAC from its native hasher, AES-GCM from WebCrypto)', () => {
  it('opens and refuses exactly what it does under node', async () => {
    const dir = join(import.meta.dirname, '../../vectors/berth-v1');
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { file: string; key: string }[];
    const cases: { file: Buffer; key: Buffer }[] = manifest.map((vector) => ({
      file: readFileSync(join(dir, vector.file)),
      key: parseKey(readFileSync(join(dir, vector.key), 'utf8'), vector.key),
    }));
    const key = randomBytes(32);
    for (const size of [0, 1, 1023, 1024, 1025, 5000]) {
      const file = encryptBuffer(randomBytes(size), [randomBytes(32), key], { chunkExponent: 10 });
      cases.push({ file, key });
      for (const at of [0, 20, file.length >> 1, file.length - 1]) {
        const flipped = Buffer.from(file);
        flipped[at] = flipped[at]! ^ 0x40;
        cases.push({ file: flipped, key });
      }
      cases.push({ file, key: randomBytes(32) });
    }
    const work = mkdtempSync(join(tmpdir(), 'berth-quick-open-'));
    try {
      const input = join(work, 'cases.json');
      writeFileSync(input, JSON.stringify(cases.map((c) => ({ file: c.file.toString('hex'), key: c.key.toString('hex') }))));
      const script = join(work, 'open.ts');
      writeFileSync(
        script,
        `import { readFileSync } from 'node:fs';
import { quickOpen } from ${JSON.stringify(join(import.meta.dirname, '../../../core/crypto/quick-open.ts'))};
if (typeof Bun === 'undefined') throw new Error('not bun');
const cases = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const out = [];
for (const c of cases) out.push((await quickOpen(Buffer.from(c.file, 'hex'), Buffer.from(c.key, 'hex')))?.toString('hex') ?? null);
console.log(JSON.stringify(out));
`,
      );
      const bun = join(import.meta.dirname, '../../../node_modules/.bin/bun');
      const underBun = JSON.parse(execFileSync(bun, [script, input], { encoding: 'utf8' })) as (string | null)[];
      const underNode = await Promise.all(cases.map(async (c) => (await quickOpen(c.file, c.key))?.toString('hex') ?? null));
      expect(underBun).toEqual(underNode);
      expect(underBun.filter((opened) => opened !== null).length).toBeGreaterThan(6);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
