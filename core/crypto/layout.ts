/**
 * @module
 * The layout of a berth encrypted file (docs/encrypted-format.md): every length, label and nonce
 * of the format, and the header's parser. Pure bytes, no crypto: header.ts and stream.ts do the
 * cryptography with node:crypto, quick-open.ts (one piece) with node:crypto or WebCrypto, both from these definitions.
 */
import { KEY_BYTES } from './key-text.js';
import { NotBerthFileError } from './errors.js';

export const MAGIC = Buffer.from('berth.enc\0', 'latin1');
export const VERSION = 1;
/** AES-256-GCM chunks, HKDF-SHA-256 derivations, HMAC-SHA-256 header MAC. */
export const ALGORITHM = 1;
export const DEFAULT_CHUNK_EXPONENT = 16;
/** A file of LARGE_INPUT_BYTES or more is written in 1 MiB chunks (see chunkExponentFor). */
const LARGE_INPUT_BYTES = 16 << 20;
const LARGE_CHUNK_EXPONENT = 20;
const MIN_CHUNK_EXPONENT = 10;
const MAX_CHUNK_EXPONENT = 24;

/**
 * The chunk size exponent to write an input of `size` bytes with (undefined: not known, as for a
 * pipe): 64 KiB chunks, and 1 MiB ones for a file of 16 MiB or more, where sealing each chunk with
 * its own nonce (a cipher set up, a tag, two buffers) costs a large file about a tenth of its time.
 * Every reader takes 2^10 to 2^24.
 */
export function chunkExponentFor(size: number | undefined): number {
  return size !== undefined && size >= LARGE_INPUT_BYTES ? LARGE_CHUNK_EXPONENT : DEFAULT_CHUNK_EXPONENT;
}
export const SALT_BYTES = 32;
export const PREAMBLE_BYTES = MAGIC.length + 3 + SALT_BYTES;
export const KEY_ID_BYTES = 8;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
export const BLOCK_BYTES = KEY_ID_BYTES + NONCE_BYTES + KEY_BYTES + TAG_BYTES;
export const MAC_BYTES = 32;
export const MAX_BLOCKS = 255;

export interface KeyBlock {
  readonly id: Buffer;
  readonly nonce: Buffer;
  /** The wrapped file key followed by its GCM tag. */
  readonly wrapped: Buffer;
}

export interface Header {
  readonly chunkExponent: number;
  readonly salt: Buffer;
  readonly blocks: readonly KeyBlock[];
}

/** A parsed header and the raw bytes its MAC covers. */
export interface ParsedHeader {
  readonly header: Header;
  readonly macInput: Buffer;
  readonly mac: Buffer;
  /** Bytes the header took from the input. */
  readonly length: number;
}

/** The label keyed by the user key to make its id (HMAC-SHA-256, first KEY_ID_BYTES); changing it changes every id. */
export const KEY_ID_LABEL = 'berth key id v1';

/** The HKDF-SHA-256 labels: the key that wraps the file key, the header MAC key, the payload key. */
export const WRAP_INFO = 'berth wrap v1';
export const HEADER_INFO = 'berth header v1';
export const PAYLOAD_INFO = 'berth payload v1';

/** One key, or several tried in order (the first the file names is used). */
export type UserKeys = Uint8Array | readonly Uint8Array[];

export function keyList(keys: UserKeys): readonly Uint8Array[] {
  return keys instanceof Uint8Array ? [keys] : keys;
}

export function preamble(header: Header): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([VERSION, ALGORITHM, header.chunkExponent]), header.salt]);
}

/** Counters past 2^48 chunks (16 EiB with 64 KiB chunks) are refused rather than wrapped. */
const MAX_COUNTER = 2 ** 48;

/** A payload chunk's nonce: an 11-byte big-endian counter and a last-chunk flag, as in age's STREAM. */
export function chunkNonce(counter: number, last: boolean): Buffer {
  if (counter >= MAX_COUNTER) throw new RangeError('encrypted stream too long');
  const nonce = Buffer.alloc(NONCE_BYTES);
  nonce.writeUIntBE(counter, 5, 6);
  nonce[11] = last ? 1 : 0;
  return nonce;
}

/**
 * Parses a header from the start of `input`. Returns undefined while more bytes are needed (the
 * caller decides whether EOF there means truncation); throws when the bytes cannot be a header.
 */
export function parseHeader(input: Buffer): ParsedHeader | undefined {
  if (input.length < PREAMBLE_BYTES + 1) return undefined;
  const version = input[MAGIC.length]!;
  const algorithm = input[MAGIC.length + 1]!;
  const chunkExponent = input[MAGIC.length + 2]!;
  if (version !== VERSION) {
    throw new NotBerthFileError(`unsupported berth file version ${version} (this berth reads version ${VERSION})`, {
      hint: 'the file was probably written by a newer berth; upgrade berth',
    });
  }
  if (algorithm !== ALGORITHM) throw new NotBerthFileError(`unsupported algorithm ${algorithm} in berth file header`);
  if (chunkExponent < MIN_CHUNK_EXPONENT || chunkExponent > MAX_CHUNK_EXPONENT) {
    throw new NotBerthFileError(`invalid chunk size exponent ${chunkExponent} in berth file header`);
  }
  const count = input[PREAMBLE_BYTES]!;
  if (count === 0) throw new NotBerthFileError('berth file header has no key blocks');
  const macStart = PREAMBLE_BYTES + 1 + count * BLOCK_BYTES;
  if (input.length < macStart + MAC_BYTES) return undefined;
  const blocks: KeyBlock[] = [];
  for (let i = 0, at = PREAMBLE_BYTES + 1; i < count; i++, at += BLOCK_BYTES) {
    blocks.push({
      id: copy(input, at, KEY_ID_BYTES),
      nonce: copy(input, at + KEY_ID_BYTES, NONCE_BYTES),
      wrapped: copy(input, at + KEY_ID_BYTES + NONCE_BYTES, KEY_BYTES + TAG_BYTES),
    });
  }
  return {
    header: { chunkExponent, salt: copy(input, MAGIC.length + 3, SALT_BYTES), blocks },
    macInput: copy(input, 0, macStart),
    mac: copy(input, macStart, MAC_BYTES),
    length: macStart + MAC_BYTES,
  };
}

/** A copy, so a parsed header never pins the (possibly large) input buffer. */
function copy(input: Buffer, start: number, length: number): Buffer {
  return Buffer.from(input.subarray(start, start + length));
}
