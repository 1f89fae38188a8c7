/**
 * @module
 * The standalone executable (`bun build --compile`, see build.mjs): one file that is the credential
 * helper, the `berth` CLI (and through it the daemon) and the generator images' entry. It picks by
 * the name it was started under, so `ln -s berth docker-credential-berth` gives the helper:
 * `docker-credential-*` is the helper, `berth-generate` the generator, any other name the CLI. A
 * hidden first argument (`--berth-entry=cli`, as `berth daemon start --detach` re-executes itself)
 * overrides the name. Each entry is imported only when chosen, so the helper never evaluates the
 * CLI's modules. No top-level await: bytecode needs CommonJS output.
 */
import { basename } from 'node:path';
import { ENTRY_ARG_PREFIX } from '../core/io/self.js';

type Entry = 'helper' | 'cli' | 'generate';

const ENTRIES: readonly Entry[] = ['helper', 'cli', 'generate'];

/** The entry for this start; removes the hidden argument from argv so the entry sees its own arguments. */
function chooseEntry(argv: string[], argv0: string): Entry {
  const hidden = argv[2]?.startsWith(ENTRY_ARG_PREFIX) ? argv[2].slice(ENTRY_ARG_PREFIX.length) : undefined;
  if (hidden !== undefined && (ENTRIES as readonly string[]).includes(hidden)) {
    argv.splice(2, 1);
    return hidden as Entry;
  }
  const name = basename(argv0);
  if (name.startsWith('docker-credential-')) return 'helper';
  if (name === 'berth-generate') return 'generate';
  return 'cli';
}

async function runCli(): Promise<number> {
  const [{ main }, { processContext }] = await Promise.all([import('../cli/program.js'), import('../cli/run.js')]);
  return main(process.argv.slice(2), { ...processContext(), loadDaemon: () => import('../daemon/main.js') });
}

function start(entry: Entry): Promise<unknown> {
  // The helper and the generator run themselves when imported (as their Node bundles do).
  if (entry === 'helper') return import('../helper/main.js');
  if (entry === 'generate') return import('../generators/main.js');
  return runCli().then((code) => {
    process.exitCode = code;
  });
}

start(chooseEntry(process.argv, process.argv0)).catch((err: unknown) => {
  process.stderr.write(`berth: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
