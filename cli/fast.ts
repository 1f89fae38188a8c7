/**
 * @module
 * Runs the plain forms of `berth decrypt` and `berth encrypt` (cli/plain-forms.ts) without the
 * command table, with the commands' own work (cli/commands/encrypt.ts) and error reporting.
 */
import { plainForm } from './plain-forms.js';
import { reportError, type CliContext } from './run.js';

/** Runs the plain form if `argv` is one: its exit code, or undefined when the full program must parse `argv`. */
export async function runPlain(argv: readonly string[], ctx: CliContext): Promise<number | undefined> {
  const plain = plainForm(argv);
  if (!plain) return undefined;
  const commands = await import('./commands/encrypt.js');
  try {
    if (plain.command === 'decrypt') {
      await commands.decrypt(ctx, plain.inPath, plain.outPath, plain.keyPath === undefined ? {} : { keyPath: plain.keyPath });
    } else await commands.encrypt(ctx, plain.inPath, plain.outPath, { keyPath: plain.keyPaths });
    return 0;
  } catch (err) {
    return reportError(err, ctx);
  }
}
