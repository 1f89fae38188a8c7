/**
 * @module
 * `berth keygen`, `berth key-id`, `berth encrypt`, `berth decrypt` and `berth rekey`: keyed
 * encrypted files that can live in a repository (dockercfg.encrypted, env.encrypted). The work is
 * in core/crypto; this file parses arguments, finds keys and reports.
 */
import type { Command } from 'commander';
import { resolve } from '../../core/io/path.js';
import type { Writable } from 'node:stream';
import type { Source } from '../../core/crypto/files.js';
import type { Coder } from '../../core/crypto/format.js';
import type { RekeyReport } from '../../core/crypto/rekey.js';
import type { EnvEntry } from '../../core/crypto/env-file.js';
import { ArgumentError, UsageError } from '../../core/errors.js';
import { quickOpenFile } from '../../core/crypto/quick-open.js';
import { warn, type CliContext } from '../run.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Finds the key (`--key-path`, BERTH_AES_KEY, ./berth.aes, ./codeship.aes), printing its warnings. */
export async function loadKey(ctx: CliContext, keyPath: string | undefined): Promise<Buffer> {
  const { findKey } = await import('../../core/crypto/key-source.js');
  const found = await findKey({ keyPath, env: ctx.env, cwd: ctx.cwd });
  for (const message of found.warnings) warn(ctx, message);
  return found.key;
}

/**
 * Every key found (see findKeys), for opening files: the file names the one to use. Warnings are
 * printed for the first key only, the one a user set up on purpose.
 */
export async function loadKeys(ctx: CliContext, keyPath: string | undefined): Promise<Buffer[]> {
  const { findKeys } = await import('../../core/crypto/key-source.js');
  const found = await findKeys({ keyPath, env: ctx.env, cwd: ctx.cwd });
  for (const message of found[0]!.warnings) warn(ctx, message);
  return found.map(({ key }) => key);
}

export function legacyWarning(ctx: CliContext, file: string): () => void {
  return () =>
    warn(
      ctx,
      `${file} is a legacy jet file without authentication: tampering or a wrong key cannot be detected; convert it with: berth rekey ${file}`,
    );
}

async function source(ctx: CliContext, path: string): Promise<Source> {
  if (path === '-') return ctx.stdin as AsyncIterable<Buffer>;
  const { openSource } = await import('../../core/crypto/files.js');
  return openSource(resolve(ctx.cwd, path));
}

/** A coder that passes its input through: for a file already decrypted in one piece. */
const AS_IS: Coder = { write: (data) => [Buffer.from(data)], end: () => [] };

/** Runs IN (or `input`, read from it already) through `coder` into OUT (atomically, with `mode`) or to stdout. */
async function run(
  ctx: CliContext,
  inPath: string,
  outPath: string,
  coder: Coder,
  mode: number,
  hold = false,
  input?: Source,
): Promise<void> {
  const [files, { inFile }] = await Promise.all([import('../../core/crypto/files.js'), import('../../core/crypto/errors.js')]);
  input ??= await source(ctx, inPath);
  await interruptible(async (signal) => {
    try {
      // Plaintext for a pipe is held until the file has verified (up to HOLD_BYTES): a pipeline
      // without pipefail would otherwise consume the start of a file whose end was tampered with.
      const holdBytes = hold ? files.HOLD_BYTES : 0;
      if (outPath === '-') await files.transformToStream(input, coder, ctx.stdout as Writable, { signal, holdBytes });
      // No fsync, as cp, age and openssl: the input is still there if the machine crashes, and
      // forcing 1 GiB to disk added about 40 % here. rekey, which replaces its input, does sync.
      else await files.transformToFile(input, coder, resolve(ctx.cwd, outPath), mode, { signal, sync: false, holdBytes });
    } catch (err) {
      throw inFile(err as Error, inPath === '-' ? 'stdin' : inPath);
    }
  });
}

/** Runs `work` with SIGINT/SIGTERM turned into an abort, so temporary files are removed on Ctrl-C. */
async function interruptible<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  process.on('SIGINT', abort).on('SIGTERM', abort);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', abort).off('SIGTERM', abort);
  }
}

/** Largest env file read into memory; env files are a few lines. */
const ENV_FILE_LIMIT = 16 * 1024 * 1024;

/** Decrypts an env file in memory (the plaintext never touches the disk) and parses it. */
export async function readEnvFile(ctx: CliContext, path: string, key: Buffer | readonly Buffer[]): Promise<EnvEntry[]> {
  const [{ decryptBuffer }, { parseEnvFile }] = await Promise.all([
    import('../../core/crypto/format.js'),
    import('../../core/crypto/env-file.js'),
  ]);
  const encrypted = path === '-' ? await readStdinBytes(ctx) : await readSmallFile(resolve(ctx.cwd, path), path);
  let plaintext: Buffer;
  try {
    plaintext = decryptBuffer(encrypted, key, { onLegacy: legacyWarning(ctx, path) });
  } catch (err) {
    const { inFile } = await import('../../core/crypto/errors.js');
    throw inFile(err as Error, path === '-' ? 'stdin' : path);
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(plaintext);
  } catch {
    throw new UsageError(`${path} does not decrypt to text, so it is not an env file`, {
      hint: 'a legacy jet file decrypted with the wrong key gives garbage like this',
    });
  }
  return parseEnvFile(text, path);
}

/** All of stdin as bytes (an encrypted file is binary: no text decoding), up to the limit. */
async function readStdinBytes(ctx: CliContext): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of ctx.stdin as AsyncIterable<Buffer>) {
    size += piece.length;
    if (size > ENV_FILE_LIMIT) throw new UsageError('stdin is too large for an env file');
    pieces.push(Buffer.from(piece));
  }
  return Buffer.concat(pieces);
}

async function readSmallFile(path: string, shown: string): Promise<Buffer> {
  const { readFile, stat } = await import('node:fs/promises');
  try {
    if ((await stat(path)).size > ENV_FILE_LIMIT) throw new UsageError(`${shown} is too large for an env file`);
    return await readFile(path);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`cannot read ${shown}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}

function registerKeygen(program: Command, ctx: CliContext): void {
  program
    .command('keygen')
    .description('write a new random 256-bit key (base64, mode 0600)')
    .argument('[path]', 'where to write it, or - for stdout', 'berth.aes')
    .option('-f, --force', 'replace an existing key file')
    .addHelpText('after', '\nExamples:\n  berth keygen                 # writes ./berth.aes\n  berth keygen ~/.config/ci.aes\n')
    .action(async (path: string, options: { force?: boolean }) => {
      const { formatKey, generateKey, keyId, writeKeyFile } = await import('../../core/crypto/key.js');
      const key = generateKey();
      if (path === '-') {
        ctx.stdout.write(formatKey(key));
        return;
      }
      await writeKeyFile(resolve(ctx.cwd, path), key, { force: options.force ?? false });
      ctx.stdout.write(`wrote key ${keyId(key)} to ${path}\n`);
    });

  program
    .command('key-id')
    .description('print the id of a key (the id files and error messages name it by)')
    .option('--key-path <path>', 'key file (default: BERTH_AES_KEY, ./berth.aes, ./codeship.aes)')
    .addHelpText('after', '\nExample:\n  berth key-id --key-path ci.aes\n')
    .action(async (options: { keyPath?: string }) => {
      const { keyId } = await import('../../core/crypto/key.js');
      ctx.stdout.write(`${keyId(await loadKey(ctx, options.keyPath))}\n`);
    });
}

function registerEncrypt(program: Command, ctx: CliContext): void {
  program
    .command('encrypt')
    .description('encrypt a file for one or more keys (authenticated, AES-256-GCM)')
    .argument('<in>', 'plaintext file, or - for stdin')
    .argument('<out>', 'encrypted file to write, or - for stdout')
    .option('--key-path <path>', 'key file; repeat to encrypt for several keys', collect, [])
    .option('-a, --armor', 'write base64 text (PEM-style) instead of binary')
    .addHelpText(
      'after',
      '\nExamples:\n  berth encrypt dockercfg dockercfg.encrypted --key-path berth.aes\n  berth encrypt env env.encrypted --armor --key-path ci-a.aes --key-path ci-b.aes\n',
    )
    .action((inPath: string, outPath: string, options: EncryptOptions) => encrypt(ctx, inPath, outPath, options));
}

export interface EncryptOptions {
  /** Key files, each a recipient; none: the default key (see loadKey). */
  keyPath: string[];
  armor?: boolean;
}

/** `berth encrypt`'s work, also run without the command table for the plain form (cli/fast.ts). */
export async function encrypt(ctx: CliContext, inPath: string, outPath: string, options: EncryptOptions): Promise<void> {
  const keyPaths = options.keyPath.length > 0 ? options.keyPath : [undefined];
  const keys = [];
  for (const keyPath of keyPaths) keys.push(await loadKey(ctx, keyPath));
  const [{ FileSealer }, input] = await Promise.all([import('../../core/crypto/format.js'), source(ctx, inPath)]);
  // a file's size chooses the chunk size; stdin's is not known
  const inputSize = 'size' in input && typeof input.size === 'number' && input.size > 0 ? input.size : undefined;
  const sealer = new FileSealer(keys, { armor: options.armor ?? false, ...(inputSize !== undefined && { inputSize }) });
  await run(ctx, inPath, outPath, sealer, 0o644, false, input);
}

function registerDecrypt(program: Command, ctx: CliContext): void {
  program
    .command('decrypt')
    .description('decrypt a berth file (binary or armored) or a legacy jet file')
    .argument('<in>', 'encrypted file, or - for stdin')
    .argument('[out]', 'plaintext file to write (mode 0600), or - for stdout (the default)')
    .option(
      '--key-path <path>',
      'key file, tried first; then BERTH_AES_KEY, ./berth.aes, ./codeship.aes (the file names the key it opens with)',
    )
    .option('--env', 'treat the plaintext as an env file and print shell `export` lines')
    .addHelpText(
      'after',
      '\nExamples:\n  berth decrypt dockercfg.encrypted dockercfg --key-path berth.aes\n  vars=$(berth decrypt --env env.encrypted) && eval "$vars"\n' +
        '\nTo stdout, a pipe or a device, inputs up to 16 MiB are held until the whole file verified; larger\n' +
        'ones stream each verified chunk, so a pipeline should use `set -o pipefail` to see a late failure.\n',
    )
    .action((inPath: string, outPath: string | undefined, options: DecryptOptions) => decrypt(ctx, inPath, outPath, options));
}

export interface DecryptOptions {
  keyPath?: string;
  env?: boolean;
}

/** `berth decrypt`'s work, also run without the command table for the plain form (cli/fast.ts). */
export async function decrypt(ctx: CliContext, inPath: string, outPath: string | undefined, options: DecryptOptions): Promise<void> {
  if (options.env && outPath !== undefined) throw new ArgumentError('--env prints to stdout; give no output file');
  const key = await loadKeys(ctx, options.keyPath);
  if (options.env) {
    const { formatExports } = await import('../../core/crypto/env-file.js');
    ctx.stdout.write(formatExports(await readEnvFile(ctx, inPath, key)));
    return;
  }
  // A small intact file is opened in one piece (core/crypto/quick-open.ts): CI decrypts one on
  // every build, and the streaming coders cost more to set up than such a file takes to open.
  const opened = inPath !== '-' ? await quickOpenFile(resolve(ctx.cwd, inPath), key) : undefined;
  if (opened) {
    await run(ctx, inPath, outPath ?? '-', AS_IS, 0o600, true, [opened]);
    return;
  }
  const { FileOpener } = await import('../../core/crypto/format.js');
  await run(ctx, inPath, outPath ?? '-', new FileOpener(key, { onLegacy: legacyWarning(ctx, inPath) }), 0o600, true);
}

function registerRekey(program: Command, ctx: CliContext): void {
  program
    .command('rekey')
    .description('add or remove keys of encrypted files without re-encrypting them (converts legacy jet files)')
    .argument('<files...>', 'encrypted files, each rewritten atomically')
    .option('--key-path <path>', 'a key that opens the files now, tried first; then BERTH_AES_KEY, ./berth.aes, ./codeship.aes')
    .option('--add <keyfile>', 'key file to add; repeatable', collect, [])
    .option('--remove <keyid>', 'key id to remove (see berth key-id); repeatable', collect, [])
    .addHelpText(
      'after',
      '\nExamples:\n  berth rekey env.encrypted --key-path old.aes --add new.aes --remove 0123456789abcdef\n  berth rekey environment.encrypted --key-path codeship.aes   # legacy jet file → berth file\n',
    )
    .action(async (files: string[], options: { keyPath?: string; add: string[]; remove: string[] }) => {
      for (const id of options.remove) {
        if (!/^[0-9a-f]{16}$/.test(id)) throw new ArgumentError(`"${id}" is not a key id (16 hex characters; see berth key-id)`);
      }
      const oldKey = await loadKeys(ctx, options.keyPath);
      const add: Buffer[] = [];
      for (const path of options.add) add.push(await loadKey(ctx, path));
      const { rekeyFiles } = await import('../../core/crypto/files.js');
      const results = await interruptible((signal) => rekeyFiles(files, oldKey, { add, remove: options.remove }, { cwd: ctx.cwd, signal }));
      for (const [index, { report }] of results.entries()) ctx.stdout.write(`${files[index]}: ${describeRekey(report)}\n`);
    });
}

function describeRekey(report: RekeyReport): string {
  const changes = [
    report.format === 'legacy' ? 'converted from a legacy jet file' : '',
    report.added.length && report.format !== 'legacy' ? `added ${report.added.join(', ')}` : '',
    report.removed.length ? `removed ${report.removed.join(', ')}` : '',
  ].filter(Boolean);
  return `keys ${report.keyIds.join(', ')}${changes.length ? ` (${changes.join('; ')})` : ' (unchanged)'}`;
}

export function registerEncryptCommands(program: Command, ctx: CliContext): void {
  registerKeygen(program, ctx);
  registerEncrypt(program, ctx);
  registerDecrypt(program, ctx);
  registerRekey(program, ctx);
}
