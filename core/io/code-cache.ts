/**
 * @module
 * Runs a CommonJS bundle with the V8 code cache written beside it at build time (`BUNDLE.cache`,
 * from a run of its hot path; see build.mjs), so the functions that path calls are not compiled
 * again at every start. The Node build's entries that a client starts for every call (the helper,
 * `berth decrypt`) are small CommonJS loaders that run their bundle this way. A node whose V8
 * differs rejects the cache, and the bundle compiles as usual. A bundle run this way loads its
 * dependencies with require(): a vm script has no loader for import().
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname } from './path.js';
import { Script } from 'node:vm';

export function runWithCodeCache(bundle: string, require: NodeJS.Require): void {
  const cacheFile = `${bundle}.cache`;
  /** Set by build.mjs only: write this run's code cache at exit. */
  const writeCache = process.env.BERTH_BUILD_CODE_CACHE === '1';
  let cachedData: Buffer | undefined;
  try {
    cachedData = writeCache ? undefined : readFileSync(cacheFile);
  } catch {
    // no cache: compile
  }
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8').replace(/^#!.*/, '')}\n})`,
    { filename: bundle, ...(cachedData ? { cachedData } : {}) },
  );
  if (writeCache) process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
  else if (process.env.BERTH_DEBUG === '1' && (cachedData === undefined || script.cachedDataRejected)) {
    const why = cachedData === undefined ? `no code cache at ${cacheFile}` : `this node rejected the code cache ${cacheFile}`;
    process.stderr.write(`berth: debug: ${why}; ${bundle} compiles\n`);
  }
  const module = { exports: {} };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  // The loader's own require: the bundle sits beside it, so both resolve alike.
  run.call(module.exports, module.exports, require, module, bundle, dirname(bundle));
}
