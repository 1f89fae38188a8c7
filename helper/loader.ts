#!/usr/bin/env node
/**
 * @module
 * `docker-credential-berth` on Node: docker starts it for every pull, and compiling the helper's
 * bundle (dist/helper.cjs) is a good part of its start-up, so this loader runs the bundle with the
 * code cache written beside it (core/io/code-cache.ts).
 */
import { join } from '../core/io/path.js';
import { runWithCodeCache } from '../core/io/code-cache.js';

runWithCodeCache(join(__dirname, 'helper.cjs'), require);
