/**
 * @module
 * The header of a berth encrypted file (docs/encrypted-format.md): preamble, one key block per key
 * that may open the file, and an HMAC over both. Owns the key derivations, so every label and
 * length of the format lives in this one file.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_BYTES, keyIdBytes } from './key.js';
import { NotBerthFileError, TamperedError, WrongKeyError } from './errors.js';

export const MAGIC = Buffer.from('berth.enc\0', 'latin1');
export const VERSION = 1;
/** AES-256-GCM chunks, HKDF-SHA-256 derivations, HMAC-SHA-256 header MAC. */
export const ALGORITHM = 1;
export const DEFAULT_CHUNK_EXPONENT = 16;
const MIN_CHUNK_EXPONENT = 10;
const MAX_CHUNK_EXPONENT = 24;
const SALT_BYTES = 32;
export const PREAMBLE_BYTES = MAGIC.length + 3 + SALT_BYTES;
const KEY_ID_BYTES = 8;
const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const BLOCK_BYTES = KEY_ID_BYTES + NONCE_BYTES + KEY_BYTES + TAG_BYTES;
const MAC_BYTES = 32;
const MAX_BLOCKS = 255;

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

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

export function newHeader(chunkExponent = DEFAULT_CHUNK_EXPONENT): { header: Header; fileKey: Buffer } {
  return { header: { chunkExponent, salt: randomBytes(SALT_BYTES), blocks: [] }, fileKey: randomBytes(KEY_BYTES) };
}

export function preamble(header: Header): Buffer {
  return Buffer.concat([MAGIC, Buffer.from([VERSION, ALGORITHM, header.chunkExponent]), header.salt]);
}

/** Wraps the file key under one user key; the preamble and key id are bound as associated data. */
export function wrapFileKey(header: Header, fileKey: Uint8Array, userKey: Uint8Array): KeyBlock {
  const id = keyIdBytes(userKey);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', hkdf(userKey, header.salt, 'berth wrap v1'), nonce);
  cipher.setAAD(Buffer.concat([preamble(header), id]));
  const wrapped = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  return { id, nonce, wrapped };
}

/** One key, or several tried in order (the first the file names is used). */
export type UserKeys = Uint8Array | readonly Uint8Array[];

export function keyList(keys: UserKeys): readonly Uint8Array[] {
  return keys instanceof Uint8Array ? [keys] : keys;
}

/**
 * Finds the block for the first of `userKeys` the file names and unwraps the file key; names
 * every key on both sides when none matches.
 */
export function unwrapFileKey(header: Header, userKeys: UserKeys): Buffer {
  const candidates = keyList(userKeys).map((key) => ({ key, id: keyIdBytes(key) }));
  const match = candidates
    .map(({ key, id }) => ({ key, id, block: header.blocks.find((b) => b.id.equals(id)) }))
    .find(({ block }) => block !== undefined);
  if (!match)
    throw new WrongKeyError(
      header.blocks.map((b) => b.id.toString('hex')),
      candidates.map(({ id }) => id.toString('hex')),
    );
  const { key: userKey, id, block } = match as { key: Uint8Array; id: Buffer; block: KeyBlock };
  const decipher = createDecipheriv('aes-256-gcm', hkdf(userKey, header.salt, 'berth wrap v1'), block.nonce);
  decipher.setAAD(Buffer.concat([preamble(header), id]));
  decipher.setAuthTag(block.wrapped.subarray(KEY_BYTES));
  try {
    return Buffer.concat([decipher.update(block.wrapped.subarray(0, KEY_BYTES)), decipher.final()]);
  } catch {
    throw new TamperedError(`header corrupted or tampered: the key block for ${id.toString('hex')} failed authentication`);
  }
}

function headerMac(fileKey: Uint8Array, salt: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, salt, 'berth header v1'))
    .update(macInput)
    .digest();
}

export function payloadKey(fileKey: Uint8Array, salt: Uint8Array): Buffer {
  return hkdf(fileKey, salt, 'berth payload v1');
}

export function serializeHeader(header: Header, fileKey: Uint8Array): Buffer {
  if (header.blocks.length < 1 || header.blocks.length > MAX_BLOCKS) {
    throw new RangeError(`a file has 1 to ${MAX_BLOCKS} keys, got ${header.blocks.length}`);
  }
  const parts = [preamble(header), Buffer.from([header.blocks.length])];
  for (const block of header.blocks) parts.push(block.id, block.nonce, block.wrapped);
  const macInput = Buffer.concat(parts);
  return Buffer.concat([macInput, headerMac(fileKey, header.salt, macInput)]);
}

export function verifyHeader(parsed: ParsedHeader, fileKey: Uint8Array): void {
  const expected = headerMac(fileKey, parsed.header.salt, parsed.macInput);
  if (!timingSafeEqual(expected, parsed.mac)) throw new TamperedError('header corrupted or tampered: header MAC mismatch');
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
