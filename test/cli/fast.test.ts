/** Which argv cli/fast.ts runs without the command table: the plain decrypt and encrypt forms, nothing else. */
import { describe, expect, it } from 'vitest';
import { plainDecrypt, plainEncrypt } from '../../cli/plain-forms.js';

describe('plainDecrypt', () => {
  it.each([
    [['decrypt', 'in.berth'], { command: 'decrypt', inPath: 'in.berth' }],
    [['decrypt', 'in.berth', 'out'], { command: 'decrypt', inPath: 'in.berth', outPath: 'out' }],
    [['decrypt', 'in.berth', 'out', '--key-path', 'k.aes'], { command: 'decrypt', inPath: 'in.berth', outPath: 'out', keyPath: 'k.aes' }],
    [['decrypt', '--key-path=k.aes', '-', '-'], { command: 'decrypt', inPath: '-', outPath: '-', keyPath: 'k.aes' }],
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

describe('plainEncrypt', () => {
  it.each([
    [['encrypt', 'in', 'out.berth'], { command: 'encrypt', inPath: 'in', outPath: 'out.berth', keyPaths: [] }],
    [
      ['encrypt', 'in', 'out', '--key-path', 'a.aes', '--key-path=b.aes'],
      { command: 'encrypt', inPath: 'in', outPath: 'out', keyPaths: ['a.aes', 'b.aes'] },
    ],
    [['encrypt', '-', '-', '--key-path', 'k'], { command: 'encrypt', inPath: '-', outPath: '-', keyPaths: ['k'] }],
  ])('takes %j', (argv, expected) => {
    expect(plainEncrypt(argv)).toEqual(expected);
  });

  it.each([
    [['decrypt', 'a', 'b']],
    [['encrypt', 'a']],
    [['encrypt', 'a', 'b', 'c']],
    [['encrypt', 'a', 'b', '--armor']],
    [['encrypt', 'a', 'b', '-a']],
    [['encrypt', 'a', 'b', '--help']],
    [['encrypt', 'a', 'b', '--key-path']],
    [['encrypt', 'a', 'b', '--key-path', '--armor']],
    [['encrypt', 'a', 'b', '--key-path=']],
    [['encrypt', '--', 'a', 'b']],
  ])('leaves %j to the program', (argv) => {
    expect(plainEncrypt(argv)).toBeUndefined();
  });
});
