/**
 * @module
 * `node:path`, as every berth module imports it. The standalone executable compiles
 * standalone/path.ts in its place (build-standalone.mjs): its runtime's node:path costs each start
 * more than a stored `get` spends on its own work.
 */
export { basename, delimiter, dirname, join, resolve } from 'node:path';
