#!/usr/bin/env node
/**
 * @module
 * `berth` on Node. The plain `decrypt` and `encrypt` forms (cli/plain-forms.ts; CI decrypts a file
 * on every build) run from a CommonJS bundle with its code cache (core/io/code-cache.ts): an ES
 * module entry alone costs node about 7 ms to start. Everything else is the program in berth.js.
 */
import { join } from '../core/io/path.js';
import { pathToFileURL } from 'node:url';
import { runWithCodeCache } from '../core/io/code-cache.js';
import { plainForm } from './plain-forms.js';

if (plainForm(process.argv.slice(2))) runWithCodeCache(join(__dirname, 'berth-fast.cjs'), require);
else void import(pathToFileURL(join(__dirname, 'berth.js')).href);
