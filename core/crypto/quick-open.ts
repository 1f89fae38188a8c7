/**
 * @module
 * Opening a small berth file in one piece, for every `get` (the store, the token cache) and a
 * `berth decrypt` of a small file: format.ts's streaming coders cost more to set up than such a
 * file takes to open. Only the intact case is handled here: a file in the binary format that `key`
 * opens gives its plaintext; anything else (another format, another key, a damaged file) gives
 * undefined, and the caller asks format.ts, which says what is wrong. It never accepts a file
 * format.ts refuses: the header MAC, the key block and every chunk are authenticated, and the
 * chunks are framed exactly as stream.ts frames them (test/core/crypto/quick-open.test.ts holds the
 * two side by side). AES-GCM comes from node:crypto on Node and from WebCrypto on the standalone
 * executable, whose runtime loads node:crypto slowly; HMAC from digest.ts.
 */
import type { webcrypto } from 'node:crypto';
import {
  chunkNonce,
  HEADER_INFO,
  KEY_ID_BYTES,
  KEY_ID_LABEL,
  type KeyBlock,
  keyList,
  MAGIC,
  PAYLOAD_INFO,
  type ParsedHeader,
  parseHeader,
  preamble,
  TAG_BYTES,
  type UserKeys,
  WRAP_INFO,
} from './layout.js';
import { hmacSha256 } from './digest.js';

const encoder = new TextEncoder();

/** HKDF-SHA-256 (RFC 5869) to 32 bytes: one extract and one expand block, as format.ts derives. */
async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Promise<Uint8Array> {
  const label = encoder.encode(info);
  const block = new Uint8Array(label.length + 1);
  block.set(label);
  block[label.length] = 1;
  return hmacSha256(await hmacSha256(salt.length ? salt : new Uint8Array(32), ikm), block);
}

/** Compares in time that depends only on the lengths. */
function equalInConstantTime(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/** AES-256-GCM opening: a key made once, then the plaintext of sealed bytes (ciphertext and tag), or undefined when they do not authenticate. */
interface Gcm {
  key(raw: Uint8Array): Promise<unknown>;
  open(key: unknown, iv: Uint8Array, sealed: Uint8Array, additionalData?: Uint8Array): Promise<Buffer | undefined>;
}

const webGcm: Gcm = {
  key: (raw) => subtle().importKey('raw', raw, 'AES-GCM', false, ['decrypt']),
  async open(key, iv, sealed, additionalData) {
    try {
      const params = additionalData ? { name: 'AES-GCM', iv, additionalData } : { name: 'AES-GCM', iv };
      return Buffer.from(await subtle().decrypt(params, key as webcrypto.CryptoKey, sealed));
    } catch {
      return undefined;
    }
  },
};

function subtle(): webcrypto.SubtleCrypto {
  return (globalThis.crypto as webcrypto.Crypto).subtle;
}

const nodeGcm: Gcm = {
  key: async (raw) => raw,
  // loaded here: stream.ts loads node:crypto, which the standalone executable never does for a `get`
  open: async (key, iv, sealed, additionalData) => (await import('./stream.js')).gcmOpen(key as Uint8Array, iv, sealed, additionalData),
};

const gcm = (globalThis as { Bun?: unknown }).Bun === undefined ? nodeGcm : webGcm;

function parsed(file: Buffer): ParsedHeader | undefined {
  if (file.length < MAGIC.length || !file.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  try {
    return parseHeader(file);
  } catch {
    return undefined;
  }
}

async function keyId(key: Uint8Array): Promise<Buffer> {
  return Buffer.from(await hmacSha256(key, encoder.encode(KEY_ID_LABEL))).subarray(0, KEY_ID_BYTES);
}

/**
 * The plaintext of `file`, or undefined for anything but an intact file that one of `keys` opens.
 * As in header.ts, the first of the keys that the file names is the one used.
 */
export async function quickOpen(file: Uint8Array, keys: UserKeys): Promise<Buffer | undefined> {
  const input = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const head = parsed(input);
  if (!head) return undefined;
  const { header } = head;
  let match: { key: Uint8Array; id: Buffer; block: KeyBlock } | undefined;
  for (const key of keyList(keys)) {
    const id = await keyId(key);
    const block = header.blocks.find((candidate) => candidate.id.equals(id));
    if (block) {
      match = { key, id, block };
      break;
    }
  }
  if (!match) return undefined;
  const { key, id, block } = match;
  const wrapKey = await gcm.key(await hkdf(key, header.salt, WRAP_INFO));
  const fileKey = await gcm.open(wrapKey, block.nonce, block.wrapped, Buffer.concat([preamble(header), id]));
  if (!fileKey) return undefined;
  const macKey = await hkdf(fileKey, header.salt, HEADER_INFO);
  if (!equalInConstantTime(await hmacSha256(macKey, head.macInput), head.mac)) return undefined;

  // Every chunk but the last is full; the last holds at least its tag. Only an empty file has an
  // empty last chunk, and only as its one chunk.
  const payload = input.subarray(head.length);
  const sealedSize = 2 ** header.chunkExponent + TAG_BYTES;
  if (payload.length < TAG_BYTES) return undefined;
  const count = Math.ceil(payload.length / sealedSize);
  if (payload.length - (count - 1) * sealedSize < TAG_BYTES) return undefined;
  const payloadKey = await gcm.key(await hkdf(fileKey, header.salt, PAYLOAD_INFO));
  const chunks: Buffer[] = [];
  for (let counter = 0; counter < count; counter++) {
    const last = counter === count - 1;
    const sealed = payload.subarray(counter * sealedSize, last ? payload.length : (counter + 1) * sealedSize);
    const plaintext = await gcm.open(payloadKey, chunkNonce(counter, last), sealed);
    if (!plaintext || (last && counter > 0 && plaintext.length === 0)) return undefined;
    chunks.push(plaintext);
  }
  return Buffer.concat(chunks);
}

/** Files up to this size are opened in one piece by quickOpenFile. */
const QUICK_FILE_BYTES = 1024 * 1024;

/**
 * The plaintext of a small regular file that one of `keys` opens intact, or undefined (a larger
 * file, a pipe, one that cannot be read or is not intact for these keys), for the caller's
 * streaming path to handle and to name what is wrong.
 */
export async function quickOpenFile(path: string, keys: UserKeys): Promise<Buffer | undefined> {
  // loaded here: the store and the cache, which open files through quickOpen, read them in core/io/sys.ts
  const { closeSync, constants, fstatSync, openSync, readFileSync, statSync } = await import('node:fs');
  let file: Buffer;
  try {
    // A pipe or FIFO is never opened here: opening and closing a FIFO unread would cost its writer
    // the data. O_NONBLOCK, so a FIFO put in the file's place meanwhile does not block the open.
    const named = statSync(path);
    if (!named.isFile() || named.size > QUICK_FILE_BYTES) return undefined;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const info = fstatSync(fd);
      if (!info.isFile() || info.size > QUICK_FILE_BYTES) return undefined;
      file = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  return quickOpen(file, keys);
}
