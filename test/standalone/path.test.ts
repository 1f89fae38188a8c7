/**
 * standalone/path.ts, the executable's node:path for berth's own modules: the same names as
 * core/io/path.ts, and the same answers as node:path for every path made of `/`, `.` and a letter up
 * to seven characters long (every arrangement of slashes, `.`, `..`, `...` and names that short) and
 * for the paths berth builds (`resolve` from the working directory too).
 */
import * as nodePath from 'node:path';
import { describe, expect, it } from 'vitest';
import * as berthPath from '../../core/io/path.js';
import * as ownPath from '../../standalone/path.js';

/** Every string over `alphabet` of length 0 to `max`. */
function everyString(alphabet: readonly string[], max: number): string[] {
  const all = [''];
  let previous = [''];
  for (let length = 1; length <= max; length++) {
    previous = previous.flatMap((prefix) => alphabet.map((char) => prefix + char));
    all.push(...previous);
  }
  return all;
}

const paths = everyString(['/', '.', 'a'], 7);
const short = everyString(['/', '.', 'a'], 4);
const berthPaths = [
  '/home/user/.local/share/berth/credentials.berth',
  '/run/user/1000/berth/daemon.sock',
  'relative/dir/',
  '//double//slashes///',
  '/a/b/../../../c',
  '../../x/./y/..',
];

describe('standalone/path.ts', () => {
  it('exports what core/io/path.ts exports', () => {
    expect(Object.keys(ownPath).sort()).toEqual(Object.keys(berthPath).sort());
    expect(ownPath.delimiter).toBe(nodePath.delimiter);
  });

  const pairs = [
    ['dirname', ownPath.dirname, nodePath.dirname],
    ['basename', ownPath.basename, nodePath.basename],
  ] as const;
  for (const [name, own, node] of pairs) {
    it(`${name} answers as node:path does`, () => {
      const differ = [...paths, ...berthPaths].filter((path) => own(path) !== node(path));
      expect(differ.map((path) => [path, own(path), node(path)])).toEqual([]);
    });
  }

  /** No part, each path alone, berth's paths with more after them, every pair of short paths, and triples led by `leads`. */
  function partLists(leads: readonly string[]): string[][] {
    const cases: string[][] = [[], ...paths.map((path) => [path]), ...berthPaths.map((path) => [path, 'x', '../y'])];
    for (const a of short) for (const b of short) cases.push([a, b]);
    for (const a of leads) for (const b of short) cases.push([a, b, 'c']);
    return cases;
  }

  for (const [name, own, node, leads] of [
    ['join', ownPath.join, nodePath.join, ['', '/', 'a/', '..']],
    ['resolve', ownPath.resolve, nodePath.resolve, ['/', '/a/', 'a']],
  ] as const) {
    it(`${name} answers as node:path does`, () => {
      const differ = partLists(leads).filter((parts) => own(...parts) !== node(...parts));
      expect(differ.map((parts) => [parts, own(...parts), node(...parts)])).toEqual([]);
    });
  }

  it('refuses a path that is not a string, as node:path does', () => {
    const notAPath = undefined as unknown as string;
    for (const [own, node] of [
      [() => ownPath.join('/a', notAPath), () => nodePath.join('/a', notAPath)],
      [() => ownPath.resolve(notAPath), () => nodePath.resolve(notAPath)],
      [() => ownPath.dirname(notAPath), () => nodePath.dirname(notAPath)],
      [() => ownPath.basename(notAPath), () => nodePath.basename(notAPath)],
    ]) {
      expect(own).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
      expect(node).toThrow(expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }));
    }
  });
});
