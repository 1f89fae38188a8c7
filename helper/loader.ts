#!/usr/bin/env node
/**
 * @module
 * `docker-credential-berth` on Node: docker starts it for every pull, and compiling the helper's
 * bundle (dist/helper.cjs) is a good part of its start-up. This loader runs the bundle as a
 * CommonJS module with the V8 code cache written beside it at build time (dist/helper.cjs.cache,
 * from a run of the helper's hot paths; see build.mjs), so those functions are not compiled again.
 * A node whose V8 differs rejects the cache, and the bundle compiles as usual. The bundle loads its
 * dependencies with require() (build.mjs): a vm script has no loader for import().
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Script } from 'node:vm';

const bundle = join(__dirname, 'helper.cjs');
const cacheFile = `${bundle}.cache`;
/** Set by build.mjs only: write this run's code cache at exit. */
const writeCache = process.env.BERTH_BUILD_CODE_CACHE === '1';

function readCache(): Buffer | undefined {
  try {
    return writeCache ? undefined : readFileSync(cacheFile);
  } catch {
    return undefined; // no cache: compile
  }
}

const cachedData = readCache();
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${readFileSync(bundle, 'utf8').replace(/^#!.*/, '')}\n})`,
  {
    filename: bundle,
    ...(cachedData ? { cachedData } : {}),
  },
);
if (writeCache) process.on('exit', () => writeFileSync(cacheFile, script.createCachedData()));
else if (process.env.BERTH_DEBUG === '1' && (cachedData === undefined || script.cachedDataRejected)) {
  const why = cachedData === undefined ? `no code cache at ${cacheFile}` : `this node rejected the code cache ${cacheFile}`;
  process.stderr.write(`berth: debug: ${why}; the helper compiles\n`);
}
const module = { exports: {} };
const run = script.runInThisContext() as (...args: unknown[]) => void;
run.call(module.exports, module.exports, createRequire(bundle), module, bundle, dirname(bundle));
