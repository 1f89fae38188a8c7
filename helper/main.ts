#!/usr/bin/env node
/**
 * @module
 * `docker-credential-berth` on Node: the entry of the helper's bundle (dist/helper.cjs, see build.mjs),
 * which helper/loader.ts runs. No top-level await: the bundle is CommonJS.
 */
import { runHelper } from './run.js';

runHelper();
