/**
 * @module
 * How this installation of berth runs itself again (`berth daemon start --detach`, the helper's
 * daemon auto-start). The Node build runs `berth.js` beside the running script; the standalone
 * executable re-executes its own file with a hidden first argument that selects the CLI whatever
 * name the file was started under.
 */
import { dirname, join } from './path.js';

/** Set by the standalone build (`bun build --compile --define`); absent everywhere else. */
declare const __BERTH_STANDALONE__: boolean | undefined;

export const STANDALONE: boolean = typeof __BERTH_STANDALONE__ === 'boolean' && __BERTH_STANDALONE__;

/** The standalone executable's hidden first argument: run as the given entry, whatever the file's name. */
export const ENTRY_ARG_PREFIX = '--berth-entry=';

/**
 * Program and leading arguments that start the `berth` CLI of this build, or undefined when it cannot
 * be found. `programPath` is the running script (the entry's `process.argv[1]`) on the Node build.
 */
export async function berthCliCommand(programPath: string | undefined): Promise<[string, ...string[]] | undefined> {
  if (STANDALONE) return [process.execPath, `${ENTRY_ARG_PREFIX}cli`];
  if (!programPath) return undefined;
  const { existsSync, realpathSync } = await import('node:fs');
  const script = join(dirname(realpathSync(programPath)), 'berth.js');
  return existsSync(script) ? [process.execPath, script] : undefined;
}
