/**
 * @module
 * A key's text form and reading it from a file: what opening a file needs, without the key
 * generation and writing in key.ts (the helper's start-up reads keys; it never makes one).
 */
import { oneLine, UsageError } from '../errors.js';
import { readFileIfExists } from '../io/sys.js';
import { KeyFormatError } from './errors.js';

export const KEY_BYTES = 32;

/** The text form written to key files: base64 and a newline. */
export function formatKey(key: Uint8Array): string {
  return `${Buffer.from(key).toString('base64')}\n`;
}

/**
 * Parses a key from text: exactly 44 characters of canonical base64 for 32 bytes, surrounding
 * whitespace allowed. `source` names where the text came from (a path, `BERTH_AES_KEY`).
 */
export function parseKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) {
    throw new KeyFormatError(`malformed key in ${source}: ${describeKeyText(trimmed)}`, {
      hint: 'a key is 44 characters of base64 (32 bytes), as written by `berth keygen`',
    });
  }
  const key = Buffer.from(trimmed, 'base64');
  // Reject non-canonical encodings (stray low bits in the last character) so one key has one text.
  if (key.length !== KEY_BYTES || key.toString('base64') !== trimmed) {
    throw new KeyFormatError(`malformed key in ${source}: not canonical base64 of ${KEY_BYTES} bytes`);
  }
  return key;
}

function describeKeyText(trimmed: string): string {
  if (trimmed === '') return 'it is empty';
  if (trimmed.includes('\n')) return 'it has more than one line';
  if (/[^A-Za-z0-9+/=]/.test(trimmed)) return 'it contains characters that are not base64';
  return `expected 44 base64 characters, found ${trimmed.length}`;
}

/** The key in `path`, or undefined when there is no such file (read through core/io/sys.ts: the helper's `get` reads it). */
export async function readKeyFileIfExists(path: string): Promise<Buffer | undefined> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFileIfExists(path);
  } catch (err) {
    throw new UsageError(`cannot read key file ${path}: ${oneLine(err)}`, { cause: err });
  }
  return bytes && parseKey(bytes.toString('utf8'), path);
}

export async function readKeyFile(path: string): Promise<Buffer> {
  let bytes: Buffer | undefined;
  try {
    bytes = await readFileIfExists(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'EACCES' ? 'permission denied' : oneLine(err);
    throw new UsageError(`cannot read key file ${path}: ${why}`, { cause: err });
  }
  if (!bytes) throw new UsageError(`cannot read key file ${path}: no such file`);
  return parseKey(bytes.toString('utf8'), path);
}
