/**
 * @module
 * The berth encrypted file, end to end: header, chunked payload and optional armor, as whole
 * buffers (small files such as the credential store) or as streams in constant memory. Reading
 * detects binary and armored files by themselves; legacy jet files only when the caller opts in.
 * Node streams around the coders are in ./format-stream.ts, so reading a small file loads no stream.
 */
import { ArmorDecoder, ArmorEncoder } from './armor.js';
import { type Coder, DetectingCoder, joinBytes, pipe } from './coder.js';
import type { Format } from './detect.js';
import { NotBerthFileError, TruncatedError } from './errors.js';
import {
  keyList,
  MAGIC,
  newHeader,
  parseHeader,
  payloadKey,
  serializeHeader,
  unwrapFileKey,
  type UserKeys,
  verifyHeader,
  wrapFileKey,
} from './header.js';
import { keyId } from './key.js';
import { chunkExponentFor } from './layout.js';
import { LegacyDecoder } from './legacy.js';
import { PayloadOpener, PayloadSealer } from './stream.js';

export interface EncryptOptions {
  /** Write the PEM-style text form instead of binary. */
  armor?: boolean;
  /**
   * The plaintext's size when known (a regular file's), which chooses the chunk size: see layout.ts's
   * chunkExponentFor. Armored text keeps 64 KiB chunks: its decoder holds more of a larger chunk.
   */
  inputSize?: number;
  /** log2 of the chunk size, overriding the choice by size (tests use small chunks). */
  chunkExponent?: number;
}

export interface DecryptOptions {
  /** Accept legacy jet files, calling this when one is read (they are unauthenticated). */
  onLegacy?: () => void;
}

export type { Coder } from './coder.js';

/** Encrypts for one or more keys (duplicates collapse to one key block). */
export class FileSealer implements Coder {
  private readonly headerBytes: Buffer;
  private readonly payload: PayloadSealer;
  private readonly armor: ArmorEncoder | undefined;
  private started = false;

  constructor(keys: readonly Uint8Array[], options: EncryptOptions = {}) {
    if (keys.length === 0) throw new RangeError('encrypting needs at least one key');
    const { header, fileKey } = newHeader(options.chunkExponent ?? chunkExponentFor(options.armor ? undefined : options.inputSize));
    const unique = new Map(keys.map((key) => [keyId(key), key]));
    const blocks = [...unique.values()].map((key) => wrapFileKey(header, fileKey, key));
    this.headerBytes = serializeHeader({ ...header, blocks }, fileKey);
    this.payload = new PayloadSealer(payloadKey(fileKey, header.salt), 2 ** header.chunkExponent);
    this.armor = options.armor ? new ArmorEncoder() : undefined;
  }

  write(data: Uint8Array): Buffer[] {
    return this.emit(this.payload.write(data));
  }

  end(): Buffer[] {
    return [...this.emit(this.payload.end()), ...(this.armor?.end() ?? [])];
  }

  private emit(pieces: Buffer[]): Buffer[] {
    if (!this.started) {
      this.started = true;
      pieces.unshift(this.headerBytes);
    }
    return this.armor ? pieces.flatMap((piece) => this.armor!.write(piece)) : pieces;
  }
}

/** Reads a binary berth file: header (checked before any plaintext is released), then payload. */
class BinaryOpener implements Coder {
  private headerInput: Buffer = Buffer.alloc(0);
  private payload: PayloadOpener | undefined;

  constructor(private readonly key: UserKeys) {}

  write(data: Uint8Array): Buffer[] {
    if (this.payload) return this.payload.write(data);
    this.headerInput = joinBytes(this.headerInput, data);
    const magic = this.headerInput.subarray(0, MAGIC.length);
    if (!MAGIC.subarray(0, magic.length).equals(magic)) throw new NotBerthFileError('not a berth encrypted file: bad magic');
    const parsed = parseHeader(this.headerInput);
    if (!parsed) {
      this.headerInput = Buffer.from(this.headerInput); // held until more comes: own it
      return [];
    }
    const fileKey = unwrapFileKey(parsed.header, this.key);
    verifyHeader(parsed, fileKey);
    this.payload = new PayloadOpener(payloadKey(fileKey, parsed.header.salt), 2 ** parsed.header.chunkExponent);
    const rest = this.headerInput.subarray(parsed.length);
    this.headerInput = Buffer.alloc(0);
    return this.payload.write(rest);
  }

  end(): Buffer[] {
    if (!this.payload) throw new TruncatedError('file truncated: it ends inside the header');
    return this.payload.end();
  }
}

/**
 * Reads any berth file (and legacy jet files if allowed), deciding the format from its first bytes.
 * Given several keys, a berth file opens with the first one it names; a legacy file names none,
 * so it is read with the first.
 */
export class FileOpener extends DetectingCoder {
  constructor(key: UserKeys, options: DecryptOptions = {}) {
    super((format) => openerFor(format, key, options));
  }
}

function openerFor(format: Format, key: UserKeys, options: DecryptOptions): Coder {
  if (format === 'binary') return new BinaryOpener(key);
  if (format === 'armor') return pipe(new ArmorDecoder(), new BinaryOpener(key));
  if (!options.onLegacy) {
    throw new NotBerthFileError('not a berth encrypted file', {
      hint: 'if it is a legacy `jet encrypt` file, `berth decrypt` reads it and `berth rekey` converts it',
    });
  }
  options.onLegacy();
  return new LegacyDecoder(Buffer.from(keyList(key)[0]!));
}

function runCoder(coder: Coder, input: Uint8Array): Buffer {
  return Buffer.concat([...coder.write(input), ...coder.end()]);
}

export function encryptBuffer(plaintext: Uint8Array, keys: readonly Uint8Array[], options: EncryptOptions = {}): Buffer {
  return runCoder(new FileSealer(keys, options), plaintext);
}

export function decryptBuffer(file: Uint8Array, key: UserKeys, options: DecryptOptions = {}): Buffer {
  return runCoder(new FileOpener(key, options), file);
}
