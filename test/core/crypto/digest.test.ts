/** sha256Hex: the same hex under node (node:crypto) and under bun (its native hasher), so both builds share one cache key. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../core/crypto/digest.js';

const ABC = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad';
const TEXTS = ['abc', '', '[[["profile","prod"]],[["AWS_PROFILE",null]]]', 'ünïcödé ✓'];

describe('sha256Hex', () => {
  it('is SHA-256 under node', async () => {
    expect(await sha256Hex('abc')).toBe(ABC);
  });

  it('gives the same hex under bun, the standalone executable runtime', async () => {
    const module = JSON.stringify(join(import.meta.dirname, '../../../core/crypto/digest.ts'));
    const script = `import { sha256Hex } from ${module}; if (typeof Bun === 'undefined') throw new Error('not bun'); console.log(JSON.stringify(await Promise.all(${JSON.stringify(TEXTS)}.map(sha256Hex))));`;
    const bun = join(import.meta.dirname, '../../../node_modules/.bin/bun');
    const underBun = JSON.parse(execFileSync(bun, ['-e', script], { encoding: 'utf8' })) as string[];
    expect(underBun).toEqual(await Promise.all(TEXTS.map(sha256Hex)));
    expect(underBun[0]).toBe(ABC);
  });
});
