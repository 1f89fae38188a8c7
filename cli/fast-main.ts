/**
 * @module
 * dist/berth-fast.cjs: the plain `decrypt` and `encrypt` forms, which cli/loader.ts hands this
 * bundle (it runs nothing else).
 */
import { runPlain } from './fast.js';
import { processContext } from './run.js';

void runPlain(process.argv.slice(2), processContext()).then((code) => {
  if (code === undefined) process.stderr.write('berth: error: berth-fast.cjs runs only the plain decrypt and encrypt forms\n');
  process.exitCode = code ?? 2;
});
