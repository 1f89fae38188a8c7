/**
 * @module
 * Telling encrypted-file formats apart from their first bytes, so `decrypt` and `rekey` read binary,
 * armored and legacy files without being told, and name the format of a file they cannot read.
 */
import { ARMOR_BEGIN } from './armor.js';
import { MAGIC } from './layout.js';
import { CODESHIP_V2_PREFIX, codeshipV2Error } from './legacy.js';
import { NotBerthFileError, TruncatedError } from './errors.js';

export type Format = 'binary' | 'armor' | 'legacy';

const AGE_PREFIXES = ['age-encryption.org/', '-----BEGIN AGE ENCRYPTED FILE-----'];
const SIGNATURES: readonly Buffer[] = [MAGIC, ARMOR_BEGIN, CODESHIP_V2_PREFIX, ...AGE_PREFIXES].map((s) =>
  typeof s === 'string' ? Buffer.from(s, 'latin1') : s,
);
/** Enough bytes to decide: the longest signature. */
export const DETECT_BYTES = Math.max(...SIGNATURES.map((s) => s.length));

/**
 * The format of a file starting with `prefix`, or undefined when more bytes could change the
 * answer. `eof` says no more bytes will come. Throws for formats berth knows it cannot read.
 */
export function detectFormat(prefix: Buffer, eof: boolean): Format | undefined {
  if (startsWith(prefix, MAGIC)) return 'binary';
  if (startsWith(prefix, Buffer.from(ARMOR_BEGIN, 'latin1'))) return 'armor';
  if (startsWith(prefix, Buffer.from(CODESHIP_V2_PREFIX, 'latin1'))) throw codeshipV2Error();
  if (AGE_PREFIXES.some((p) => startsWith(prefix, Buffer.from(p, 'latin1')))) {
    throw new NotBerthFileError('not a berth encrypted file: this is an age file', { hint: 'decrypt it with `age -d`' });
  }
  if (!eof && prefix.length < DETECT_BYTES) return undefined;
  if (eof && prefix.length >= 5 && startsWith(MAGIC, prefix)) throw new TruncatedError('file truncated: it ends inside the header');
  if (prefix.length === 0) throw new NotBerthFileError('not a berth encrypted file: the input is empty');
  if (looksLegacy(prefix, eof)) return 'legacy';
  throw new NotBerthFileError('not a berth encrypted file', {
    hint: 'berth reads files written by `berth encrypt` (binary or --armor) and legacy `jet encrypt` files',
  });
}

/**
 * A legacy jet file is one line of base64 holding at least a 16-byte IV and one byte: 24
 * characters. Requiring that keeps ordinary text from being "decrypted" into garbage.
 */
function looksLegacy(prefix: Buffer, eof: boolean): boolean {
  const text = prefix.toString('latin1');
  return eof ? /^[A-Za-z0-9+/]{22,}={0,2}\s*$/.test(text) && text.trim().length >= 24 : /^[A-Za-z0-9+/]+$/.test(text);
}

function startsWith(data: Buffer, prefix: Buffer): boolean {
  return data.length >= prefix.length && data.subarray(0, prefix.length).equals(prefix);
}
