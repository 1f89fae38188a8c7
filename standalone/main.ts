/**
 * @module
 * The standalone executable (`bun build --compile`, see build.mjs): one file that is the credential
 * helper, the `berth` CLI (and through it the daemon) and the generator images' entry. It picks by
 * the name it was started under, so `ln -s berth docker-credential-berth` gives the helper:
 * `docker-credential-*` is the helper, `berth-generate` the generator, any other name the CLI. A
 * hidden first argument (`--berth-entry=cli`, as `berth daemon start --detach` re-executes itself)
 * overrides the name.
 *
 * The helper, which a client starts for every call, is imported here, so its modules load with
 * this one (see build-standalone.mjs); so are the one-piece opener, which the helper and `berth
 * decrypt` use, the daemon client, which every `get` the store does not answer asks first, and the
 * direct resolver behind it (the registry choice, the disk cache, the provider table; measured: an
 * ECR `get` from the disk cache 0.3-0.4 ms sooner, a stored one no later): an `import()` of a
 * module not loaded yet costs the executable a round of its module loader. The CLI, the daemon,
 * the generator and each provider are loaded with `import()` when chosen.
 */
import { basename } from '../core/io/path.js';
import { ENTRY_ARG_PREFIX } from '../core/io/self.js';
import { runHelper } from '../helper/run.js';
import '../core/crypto/quick-open.js';
import '../core/resolve/daemon-first.js';
import '../core/resolve/context.js';

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

function start(entry: Entry): Promise<unknown> {
  if (entry === 'helper') {
    runHelper();
    return Promise.resolve();
  }
  return import('./cli.js').then((cli) => cli.run(entry));
}

/**
 * Bun applies the runtime flags in BUN_OPTIONS (`--watch`, `--preload`, `--heap-prof`…) to every
 * program it runs, this executable too, before berth's code starts: a helper that never exits under
 * `--watch`, code of someone else's project loaded into the daemon, profiles written where docker
 * starts the helper. berth takes no runtime flags from the environment: started with some, the
 * process replaces itself (same pid, stdin not read yet) with a start under the environment it was
 * given (/proc/self/environ: a flag may have changed process.env since), less BUN_OPTIONS. With a
 * CPU profile asked for there, the flags are left as they are: the profiler's sampler interrupts
 * this thread with a signal, and one that arrives during the exec kills the new start.
 */
function withoutRuntimeFlags(): void {
  if (!process.env.BUN_OPTIONS?.trim() || process.execArgv.some((flag) => flag.startsWith('--cpu-prof'))) return;
  const self = process as { execve?: (file: string, args: string[], env: Record<string, string>) => never };
  if (!self.execve) return;
  // As process.env has it: a name given twice takes its last value.
  const env: Record<string, string> = Object.create(null);
  try {
    const { readFileSync } = require('node:fs') as typeof import('node:fs');
    const bytes = readFileSync('/proc/self/environ');
    // Text only: a value that is not UTF-8 would not survive the round trip through strings.
    if (!(require('node:buffer') as typeof import('node:buffer')).isUtf8(bytes)) return;
    for (const entry of bytes.toString('utf8').split('\0')) {
      const equals = entry.indexOf('=');
      if (equals > 0) env[entry.slice(0, equals)] = entry.slice(equals + 1);
    }
  } catch {
    Object.assign(env, process.env);
  }
  delete env.BUN_OPTIONS;
  try {
    self.execve(process.execPath, [process.argv0, ...process.argv.slice(2)], env);
  } catch {
    // cannot re-execute: go on with the flags
  }
}

withoutRuntimeFlags();
start(chooseEntry(process.argv, process.argv0)).catch((err: unknown) => {
  process.stderr.write(`berth: error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
