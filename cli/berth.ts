#!/usr/bin/env node
/** @module The `berth` entry: only this file touches argv and the exit code. */
import { main } from './program.js';
import { processContext } from './run.js';

process.exitCode = await main(process.argv.slice(2), processContext());
