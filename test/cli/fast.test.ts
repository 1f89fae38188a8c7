/** Which argv cli/fast.ts runs without the command table: the plain decrypt form, nothing else. */
import { describe, expect, it } from 'vitest';
import { plainDecrypt } from '../../cli/fast.js';

describe('plainDecrypt', () => {
  it.each([
    [['decrypt', 'in.berth'], { inPath: 'in.berth' }],
    [['decrypt', 'in.berth', 'out'], { inPath: 'in.berth', outPath: 'out' }],
    [['decrypt', 'in.berth', 'out', '--key-path', 'k.aes'], { inPath: 'in.berth', outPath: 'out', keyPath: 'k.aes' }],
    [['decrypt', '--key-path=k.aes', '-', '-'], { inPath: '-', outPath: '-', keyPath: 'k.aes' }],
  ])('takes %j', (argv, expected) => {
    expect(plainDecrypt(argv)).toEqual(expected);
  });

  it.each([
    [['encrypt', 'a', 'b']],
    [['decrypt']],
    [['decrypt', 'a', 'b', 'c']],
    [['decrypt', 'a', '--env']],
    [['decrypt', 'a', '--help']],
    [['decrypt', '--key-path']],
    [['decrypt', 'a', '--key-path']],
    [['decrypt', 'a', '--key-path', '--env']],
    [['decrypt', 'a', '--key-path', 'k', '--key-path', 'j']],
    [['decrypt', 'a', '--key-path=']],
    [['decrypt', '--', 'a']],
    [['decrypt', '-x']],
  ])('leaves %j to the program', (argv) => {
    expect(plainDecrypt(argv)).toBeUndefined();
  });
});
