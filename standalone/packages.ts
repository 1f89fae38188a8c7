/**
 * @module
 * The standalone executable's entry for the dependencies berth loads on demand (the table in
 * core/io/packages.ts). It is compiled into the same file as the other entries, but apart from
 * them: the helper's start-up never reads the SDKs' code. standalone/packages-stub.ts loads it.
 */
export { loadPackage } from '../core/io/packages.js';
