#!/usr/bin/env node
/** @module The `berth` entry: only this file touches argv, the process environment and the exit code. */
import { main } from './program.js';
import { processContext } from './run.js';

// A reader that stops early (`berth help registries | head -3`) closes the pipe: that is not an
// error, and no stack trace should follow the output.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
}

// The AWS SDK warns on stderr about Node versions it will drop (`berth generate`, the daemon); its
// documented switch silences only that warning, and the SDK reads only process.env.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
// No top-level await: the standalone binary compiles this entry to CommonJS bytecode.
void main(process.argv.slice(2), processContext()).then((code) => {
  process.exitCode = code;
});
