/**
 * @module
 * `node:path`, as every berth module imports it (a lint rule says so). The standalone executable
 * compiles standalone/path.ts in its place (build-standalone.mjs): its runtime's node:path took
 * about 0.3 ms of every start to load.
 */
export { basename, delimiter, dirname, join, resolve } from 'node:path';
