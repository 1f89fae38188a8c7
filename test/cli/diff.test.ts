/** The `--dry-run` diff: unified shape, removals before additions, secrets masked. */
import { describe, expect, it } from 'vitest';
import { maskSecrets, unifiedDiff } from '../../cli/diff.js';

describe('unifiedDiff', () => {
  it('is empty for equal texts', () => {
    expect(unifiedDiff('{}\n', '{}\n', { before: 'a', after: 'b' })).toBe('');
  });

  it('shows a change with two lines of context and hunk line numbers', () => {
    const before = `${['{', '\t"a": 1,', '\t"b": 2,', '\t"c": 3,', '\t"d": 4,', '\t"e": 5', '}'].join('\n')}\n`;
    const after = before.replace('"c": 3', '"c": 30');
    expect(unifiedDiff(before, after, { before: 'old', after: 'new' })).toBe(
      ['--- old', '+++ new', '@@ -2,5 +2,5 @@', '\t"a": 1,', '\t"b": 2,', '-\t"c": 3,', '+\t"c": 30,', '\t"d": 4,', '\t"e": 5', '']
        .map((line) => (line.startsWith('\t') ? ` ${line}` : line))
        .join('\n'),
    );
  });

  it('starts a new file at line 0', () => {
    expect(unifiedDiff('', '{}\n', { before: '/dev/null', after: 'f' })).toBe('--- /dev/null\n+++ f\n@@ -0,0 +1,1 @@\n+{}\n');
  });

  it('splits far-apart changes into hunks', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    const changed = lines.map((line, i) => (i === 1 || i === 18 ? `${line}!` : line));
    const diff = unifiedDiff(`${lines.join('\n')}\n`, `${changed.join('\n')}\n`, { before: 'a', after: 'b' });
    expect(diff.match(/^@@ .* @@$/gm)).toEqual(['@@ -1,4 +1,4 @@', '@@ -17,4 +17,4 @@']);
  });

  it('masks inline credentials in context lines', () => {
    const before = '{\n\t"auths": {\n\t\t"ghcr.io": {\n\t\t\t"auth": "b2N0bzpzM2NyM3Q="\n\t\t}\n\t}\n}\n';
    const after = before.replace('\n}\n', ',\n\t"credsStore": "berth"\n}\n');
    const diff = unifiedDiff(before, after, { before: 'a', after: 'b' });
    expect(diff).toContain('"auth": "***"');
    expect(diff).not.toContain('b2N0bzpzM2NyM3Q=');
  });
});

describe('maskSecrets', () => {
  it.each([
    ['"auth": "abc"', '"auth": "***"'],
    ['"identitytoken":"x\\"y"', '"identitytoken":"***"'],
    ['"Password": "p", "username": "u"', '"Password": "***", "username": "u"'],
    ['"auth": ""', '"auth": ""'],
    ['"credsStore": "berth"', '"credsStore": "berth"'],
  ])('%s → %s', (line, masked) => {
    expect(maskSecrets(line)).toBe(masked);
  });
});
