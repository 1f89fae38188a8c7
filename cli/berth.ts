#!/usr/bin/env node
/** @module The `berth` entry: only this file touches argv, the process environment and the exit code. */
import { runPlain } from './fast.js';
import { processContext } from './run.js';

const argv = process.argv.slice(2);
const ctx = processContext();
// The command table is loaded only for what cli/fast.ts does not run on its own.
void runPlain(argv, ctx)
  .then(async (code) => code ?? (await import('./program.js')).main(argv, ctx))
  .then((code) => {
    process.exitCode = code;
  });
