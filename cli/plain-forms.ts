/**
 * @module
 * The plain forms of `berth decrypt` and `berth encrypt`, which run without the command table:
 * `decrypt IN [OUT] [--key-path K]` (CI runs it on every build) and `encrypt IN OUT [--key-path K]…`.
 * Building the program (commander and the command group) costs more than decrypting a small file.
 * Any other argv (another option, `--help`, a typo) is left to the full program, so its parsing,
 * messages and exit codes stay the program's own. No imports: the Node build's `berth` loader
 * (cli/loader.ts) reads argv with this before it loads anything else.
 */

export interface PlainDecrypt {
  command: 'decrypt';
  inPath: string;
  outPath?: string;
  keyPath?: string;
}

export interface PlainEncrypt {
  command: 'encrypt';
  inPath: string;
  outPath: string;
  /** In the order given; empty means the default key (BERTH_AES_KEY, ./berth.aes, ./codeship.aes). */
  keyPaths: string[];
}

/** Positional arguments and `--key-path` values, or undefined when anything else is there. */
function split(args: readonly string[]): { positional: string[]; keyPaths: string[] } | undefined {
  const positional: string[] = [];
  const keyPaths: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    // `--key-path` last, with no value, falls through to the program, which says what is missing
    const value = arg === '--key-path' ? args[++i] : arg.startsWith('--key-path=') ? arg.slice('--key-path='.length) : undefined;
    if (value !== undefined) {
      if (value === '' || value.startsWith('-')) return undefined;
      keyPaths.push(value);
    } else if (arg === '-' || !arg.startsWith('-')) positional.push(arg);
    else return undefined;
  }
  return { positional, keyPaths };
}

/** The plain `decrypt` form of `argv`, or undefined for anything else. */
export function plainDecrypt(argv: readonly string[]): PlainDecrypt | undefined {
  if (argv[0] !== 'decrypt') return undefined;
  const parts = split(argv.slice(1));
  if (!parts || parts.keyPaths.length > 1) return undefined;
  const [inPath, outPath, ...extra] = parts.positional;
  const [keyPath] = parts.keyPaths;
  if (inPath === undefined || extra.length > 0) return undefined;
  return { command: 'decrypt', inPath, ...(outPath !== undefined && { outPath }), ...(keyPath !== undefined && { keyPath }) };
}

/** The plain `encrypt` form of `argv` (both paths given, no --armor), or undefined for anything else. */
export function plainEncrypt(argv: readonly string[]): PlainEncrypt | undefined {
  if (argv[0] !== 'encrypt') return undefined;
  const parts = split(argv.slice(1));
  const [inPath, outPath, ...extra] = parts?.positional ?? [];
  if (!parts || inPath === undefined || outPath === undefined || extra.length > 0) return undefined;
  return { command: 'encrypt', inPath, outPath, keyPaths: parts.keyPaths };
}

export function plainForm(argv: readonly string[]): PlainDecrypt | PlainEncrypt | undefined {
  return plainDecrypt(argv) ?? plainEncrypt(argv);
}
