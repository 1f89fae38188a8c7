/**
 * @module
 * `berth decrypt IN [OUT] [--key-path K]` without the command table: CI runs it on every build, and
 * building the program (commander and the command group) costs more than decrypting a small file.
 * Only that plain form is taken here; any other argv (another option, `--help`, a typo) is left to
 * the full program, so its parsing, messages and exit codes stay the program's own.
 */
import { reportError, type CliContext } from './run.js';

interface PlainDecrypt {
  inPath: string;
  outPath?: string;
  keyPath?: string;
}

/** The plain `decrypt` form of `argv`, or undefined for anything else. */
export function plainDecrypt(argv: readonly string[]): PlainDecrypt | undefined {
  if (argv[0] !== 'decrypt') return undefined;
  const positional: string[] = [];
  let keyPath: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    // `--key-path` last, with no value, falls through to the program, which says what is missing
    const value = arg === '--key-path' ? argv[++i] : arg.startsWith('--key-path=') ? arg.slice('--key-path='.length) : undefined;
    if (value !== undefined) {
      if (keyPath !== undefined || value === '' || value.startsWith('-')) return undefined;
      keyPath = value;
    } else if (arg === '-' || !arg.startsWith('-')) positional.push(arg);
    else return undefined;
  }
  const [inPath, outPath, ...extra] = positional;
  if (inPath === undefined || extra.length > 0) return undefined;
  return { inPath, ...(outPath !== undefined && { outPath }), ...(keyPath !== undefined && { keyPath }) };
}

/** Runs the plain form if `argv` is one: its exit code, or undefined when the full program must parse `argv`. */
export async function runPlainDecrypt(argv: readonly string[], ctx: CliContext): Promise<number | undefined> {
  const plain = plainDecrypt(argv);
  if (!plain) return undefined;
  const { decrypt } = await import('./commands/encrypt.js');
  try {
    await decrypt(ctx, plain.inPath, plain.outPath, plain.keyPath === undefined ? {} : { keyPath: plain.keyPath });
    return 0;
  } catch (err) {
    return reportError(err, ctx);
  }
}
