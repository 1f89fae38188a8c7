import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { envObject, formatExports, parseEnvFile, shellQuote } from '../../../core/crypto/env-file.js';

describe('parseEnvFile', () => {
  it('reads NAME=VALUE lines literally, as docker --env-file does', () => {
    const text = '\uFEFF# comment\n\nFOO=bar\r\n  export SPACED=a b  \nQUOTED="kept"\nEMPTY=\nEQ=a=b\n';
    expect(parseEnvFile(text, 'env')).toEqual([
      { name: 'FOO', value: 'bar' },
      { name: 'SPACED', value: 'a b  ' },
      { name: 'QUOTED', value: '"kept"' },
      { name: 'EMPTY', value: '' },
      { name: 'EQ', value: 'a=b' },
    ]);
    expect(envObject(parseEnvFile('A=1\nA=2\n', 'env'))).toEqual({ A: '2' });
  });

  for (const [what, text] of [
    ['a line without =', 'FOO=1\nSECRET_VALUE_ONLY\n'],
    ['a name with a dash', 'FOO=1\nBAD-NAME=secret\n'],
    ['a name starting with a digit', 'FOO=1\n1X=secret\n'],
  ]) {
    it(`rejects ${what}, naming the line but not its content`, () => {
      expect(() => parseEnvFile(text!, 'env.encrypted')).toThrow(UsageError);
      expect(() => parseEnvFile(text!, 'env.encrypted')).toThrow(/^env\.encrypted: line 2 is not NAME=VALUE/);
      expect(() => parseEnvFile(text!, 'env.encrypted')).not.toThrow(/secret|SECRET/);
    });
  }
});

describe('shell quoting', () => {
  const values = ['plain', "it's", '$HOME `id` $(id) \\ "q"', ' lead and trail ', '', "''", '!*?[a]~#;&|<>'];
  it('survives eval in sh byte for byte', () => {
    const exports = formatExports(values.map((value, i) => ({ name: `V${i}`, value })));
    const script = `${exports}for n in ${values.map((_, i) => `"$V${i}"`).join(' ')}; do printf '%s\\0' "$n"; done`;
    const printed = execFileSync('sh', ['-c', script], { env: {} }).toString().split('\0').slice(0, -1);
    expect(printed).toEqual(values);
  });

  it('single-quotes everything', () => {
    expect(shellQuote("a'b")).toBe(`'a'\\''b'`);
  });
});
