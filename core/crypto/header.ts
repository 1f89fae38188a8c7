/**
 * @module
 * The header of a berth encrypted file (docs/encrypted-format.md): preamble, one key block per key
 * that may open the file, and an HMAC over both. The key derivations, with node:crypto; every label
 * and length they use is in layout.ts.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { KEY_BYTES, keyIdBytes } from './key.js';
import {
  DEFAULT_CHUNK_EXPONENT,
  HEADER_INFO,
  type Header,
  keyList,
  type KeyBlock,
  MAX_BLOCKS,
  NONCE_BYTES,
  PAYLOAD_INFO,
  type ParsedHeader,
  preamble,
  SALT_BYTES,
  type UserKeys,
  WRAP_INFO,
} from './layout.js';

import { TamperedError, WrongKeyError } from './errors.js';

export {
  ALGORITHM,
  DEFAULT_CHUNK_EXPONENT,
  type Header,
  type KeyBlock,
  keyList,
  MAGIC,
  PREAMBLE_BYTES,
  type ParsedHeader,
  parseHeader,
  preamble,
  TAG_BYTES,
  type UserKeys,
  VERSION,
} from './layout.js';

function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, info, 32));
}

export function newHeader(chunkExponent = DEFAULT_CHUNK_EXPONENT): { header: Header; fileKey: Buffer } {
  return { header: { chunkExponent, salt: randomBytes(SALT_BYTES), blocks: [] }, fileKey: randomBytes(KEY_BYTES) };
}

/** Wraps the file key under one user key; the preamble and key id are bound as associated data. */
export function wrapFileKey(header: Header, fileKey: Uint8Array, userKey: Uint8Array): KeyBlock {
  const id = keyIdBytes(userKey);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', hkdf(userKey, header.salt, WRAP_INFO), nonce);
  cipher.setAAD(Buffer.concat([preamble(header), id]));
  const wrapped = Buffer.concat([cipher.update(fileKey), cipher.final(), cipher.getAuthTag()]);
  return { id, nonce, wrapped };
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
  const decipher = createDecipheriv('aes-256-gcm', hkdf(userKey, header.salt, WRAP_INFO), block.nonce);
  decipher.setAAD(Buffer.concat([preamble(header), id]));
  decipher.setAuthTag(block.wrapped.subarray(KEY_BYTES));
  try {
    return Buffer.concat([decipher.update(block.wrapped.subarray(0, KEY_BYTES)), decipher.final()]);
  } catch {
    throw new TamperedError(`header corrupted or tampered: the key block for ${id.toString('hex')} failed authentication`);
  }
}

function headerMac(fileKey: Uint8Array, salt: Uint8Array, macInput: Uint8Array): Buffer {
  return createHmac('sha256', hkdf(fileKey, salt, HEADER_INFO))
    .update(macInput)
    .digest();
}

export function payloadKey(fileKey: Uint8Array, salt: Uint8Array): Buffer {
  return hkdf(fileKey, salt, PAYLOAD_INFO);
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
