import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ArmorDecoder, ArmorEncoder } from '../../../core/crypto/armor.js';
import { TamperedError, TruncatedError } from '../../../core/crypto/errors.js';

function encode(data: Buffer, pieceSize = 1000): string {
  const encoder = new ArmorEncoder();
  const out: Buffer[] = [];
  for (let at = 0; at < data.length; at += pieceSize) out.push(...encoder.write(data.subarray(at, at + pieceSize)));
  return Buffer.concat([...out, ...encoder.end()]).toString('latin1');
}

function decode(text: string, pieceSize = 7): Buffer {
  const decoder = new ArmorDecoder();
  const out: Buffer[] = [];
  for (let at = 0; at < text.length; at += pieceSize) out.push(...decoder.write(Buffer.from(text.slice(at, at + pieceSize), 'latin1')));
  return Buffer.concat([...out, ...decoder.end()]);
}

describe('armor', () => {
  for (const size of [1, 47, 48, 49, 96, 1000, 4801]) {
    it(`round-trips ${size} bytes in 64-column lines, whatever the piece sizes`, () => {
      const data = randomBytes(size);
      const text = encode(data, 13);
      expect(text).toBe(
        `-----BEGIN BERTH ENCRYPTED FILE-----\n${data.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END BERTH ENCRYPTED FILE-----\n`,
      );
      expect(decode(text).equals(data)).toBe(true);
      expect(decode(text.replace(/\n/g, '\r\n'), 64).equals(data)).toBe(true);
    });
  }

  const text = encode(randomBytes(200));
  const lines = text.split('\n');
  const bad: [string, string, typeof TamperedError, RegExp][] = [
    ['a short middle line', [lines[0], lines[1]!.slice(0, 60), ...lines.slice(2)].join('\n'), TamperedError, /line 2: the line is shorter/],
    ['a long line', [lines[0], `${lines[1]}AAAA`, ...lines.slice(2)].join('\n'), TamperedError, /line 2: not a 64-column/],
    ['a non-base64 character', text.replace(lines[2]!, `${lines[2]!.slice(0, 10)}*${lines[2]!.slice(11)}`), TamperedError, /line 3/],
    [
      'non-canonical padding bits',
      text.replace(/(.)(=*)\n-----END/, (_m, c: string, pad: string) => `${c === 'B' ? 'C' : 'B'}${pad}\n-----END`),
      TamperedError,
      /./,
    ],
    ['a blank line', text.replace('\n', '\n\n'), TamperedError, /line 2/],
    ['no END line', lines.slice(0, -2).join('\n'), TruncatedError, /no END line/],
    ['text after END', `${text}more\n`, TamperedError, /after the END line/],
  ];
  for (const [what, input, errorClass, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => decode(input)).toThrow(errorClass);
      expect(() => decode(input)).toThrow(message);
    });
  }

  it('names the line of a bad character deep in a large file, fed in large pieces', () => {
    const large = encode(randomBytes(48 * 10_000), 1 << 16);
    const at = large.split('\n', 5000).join('\n').length + 1; // line 5001 starts here
    const broken = `${large.slice(0, at + 20)}!${large.slice(at + 21)}`;
    expect(decode(large, 1 << 16).length).toBe(48 * 10_000);
    expect(() => decode(broken, 1 << 16)).toThrow(/^armored text corrupted at line 5001: not a 64-column base64 line$/);
    expect(() => decode(broken.replace(/\n/g, '\r\n'), 1 << 16)).toThrow(/at line 5001:/);
    // the URL-safe alphabet, which Node's base64 decoder would take, is not berth's
    const urlSafe = `${large.slice(0, at + 20)}-${large.slice(at + 21)}`;
    expect(() => decode(urlSafe, 1 << 16)).toThrow(/^armored text corrupted at line 5001: not a 64-column base64 line$/);
  });

  it('allows whitespace after the END line and a missing final newline', () => {
    expect(decode(`${text}\n  \n`).length).toBe(200);
    expect(decode(text.trimEnd()).length).toBe(200);
  });

  it('fails fast in constant memory on 150 MB of spaces without a newline after END', () => {
    const decoder = new ArmorDecoder();
    decoder.write(Buffer.from(text, 'latin1'));
    const spaces = Buffer.alloc(1 << 20, 0x20);
    const started = performance.now();
    let fed = 0;
    const feed = () => {
      for (; fed < 150; fed++) decoder.write(spaces);
      decoder.end();
    };
    expect(feed).toThrow(/line \d+: a line after the END line is longer than 64 columns/);
    expect(fed).toBe(0); // the first MiB is enough to tell
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('holds at most one line between writes, whatever comes after END', () => {
    const decoder = new ArmorDecoder();
    decoder.write(Buffer.from(text, 'latin1'));
    decoder.write(Buffer.from(' '.repeat(60)));
    expect(() => decoder.write(Buffer.from(' '.repeat(10)))).toThrow(TamperedError);
    const fine = new ArmorDecoder();
    fine.write(Buffer.from(text, 'latin1'));
    for (let i = 0; i < 10_000; i++) fine.write(Buffer.from(`${' '.repeat(60)}\n`));
    expect(fine.end()).toEqual([]);
  });
});
