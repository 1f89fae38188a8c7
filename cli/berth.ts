#!/usr/bin/env node
/** @module The `berth` entry: only this file touches argv, the process environment and the exit code. */
import { main } from './program.js';
import { processContext } from './run.js';

// No top-level await: the standalone binary compiles this entry to CommonJS bytecode.
void main(process.argv.slice(2), processContext()).then((code) => {
  process.exitCode = code;
});
