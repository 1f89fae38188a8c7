/**
 * @module
 * core/io/path.ts as the standalone executable has it (build-standalone.mjs compiles this module in
 * its place). The runtime's node:path is JavaScript that takes about 0.3 ms of every start to load,
 * for what berth calls on its hot paths: `join`, `dirname`, `basename` and `resolve` are here, POSIX
 * as node:path has them (test/standalone/path.test.ts holds them to it); a `basename` with a suffix
 * to cut is the runtime's, loaded then.
 */
import type * as NodePath from 'node:path';

declare const require: (id: string) => unknown;

/** As node:path refuses a path that is not a string (a variable not set), rather than join "undefined". */
function checked(path: unknown): string {
  if (typeof path === 'string') return path;
  throw Object.assign(new TypeError(`The "path" argument must be of type string. Received ${path === null ? 'null' : typeof path}`), {
    code: 'ERR_INVALID_ARG_TYPE',
  });
}

/**
 * `path` with `.` segments dropped, `..` taking out the segment before it (or kept, at the front of
 * a relative path) and runs of slashes made one; no leading or trailing slash (`normalize` adds
 * those back).
 */
function segments(path: string, absolute: boolean): string {
  const kept: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment !== '..') kept.push(segment);
    else if (kept.length > 0 && kept[kept.length - 1] !== '..') kept.pop();
    else if (!absolute) kept.push('..');
  }
  return kept.join('/');
}

/** As `path.normalize`: the join of the parts, with the leading and trailing slash kept. */
const normalize = (path: string): string => {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const trailing = path.endsWith('/');
  const inner = segments(path, absolute);
  if (inner === '') return absolute ? '/' : trailing ? './' : '.';
  return `${absolute ? '/' : ''}${inner}${trailing ? '/' : ''}`;
};

export const join: typeof NodePath.join = (...paths) => {
  const joined = paths
    .map(checked)
    .filter((path) => path !== '')
    .join('/');
  return joined === '' ? '.' : normalize(joined);
};

/** Everything before the last segment (trailing slashes are no segment); `//` is kept as POSIX allows. */
export const dirname: typeof NodePath.dirname = (path) => {
  if (checked(path) === '') return '.';
  let i = path.length - 1;
  while (i >= 1 && path[i] === '/') i--;
  while (i >= 1 && path[i] !== '/') i--;
  const rooted = path.startsWith('/');
  if (i < 1) return rooted ? '/' : '.';
  return rooted && i === 1 ? '//' : path.slice(0, i);
};

export const basename: typeof NodePath.basename = (path, suffix) => {
  if (suffix !== undefined) return (require('node:path') as typeof NodePath).basename(path, suffix);
  let end = checked(path).length;
  while (end > 0 && path[end - 1] === '/') end--;
  return path.slice(path.lastIndexOf('/', end - 1) + 1, end);
};

export const delimiter = ':';

/** The parts from the last absolute one on (else from the working directory), joined and normalized, no trailing slash. */
export const resolve: typeof NodePath.resolve = (...paths) => {
  let resolved = '';
  for (let i = paths.length - 1; i >= -1; i--) {
    const path = i >= 0 ? checked(paths[i]) : process.cwd();
    if (path === '') continue;
    resolved = `${path}/${resolved}`;
    if (path.startsWith('/')) break;
  }
  return `/${segments(resolved, true)}`;
};
