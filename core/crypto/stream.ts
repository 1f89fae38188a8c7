/**
 * @module
 * The payload: STREAM-style chunked AES-256-GCM, as in age's internal/stream. Each chunk's nonce is
 * an 11-byte big-endian counter and a last-chunk flag, so chunks cannot be reordered, dropped or
 * extended without failing authentication. Encryption holds back one chunk so the true last chunk
 * carries the flag; only an empty input gets an empty final chunk. Errors are sticky.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { ByteQueue } from './byte-queue.js';
import { TamperedError, TruncatedError } from './errors.js';
import { chunkNonce, TAG_BYTES } from './layout.js';

export class PayloadSealer {
  private readonly queue = new ByteQueue();
  private counter = 0;
  private done = false;

  constructor(
    private readonly key: Buffer,
    private readonly chunkSize: number,
  ) {}

  /** Seals every chunk that is known not to be the last; returns ciphertext pieces. */
  write(data: Uint8Array): Buffer[] {
    if (this.done) throw new Error('write after end');
    this.queue.push(data);
    const out: Buffer[] = [];
    while (this.queue.length > this.chunkSize) out.push(...this.seal(this.queue.take(this.chunkSize), false));
    this.queue.own();
    return out;
  }

  end(): Buffer[] {
    if (this.done) return [];
    this.done = true;
    return this.seal(this.queue.take(this.queue.length), true);
  }

  private seal(plaintext: Buffer, last: boolean): Buffer[] {
    const cipher = createCipheriv('aes-256-gcm', this.key, chunkNonce(this.counter++, last));
    const ciphertext = cipher.update(plaintext);
    cipher.final();
    return [ciphertext, cipher.getAuthTag()];
  }
}

export class PayloadOpener {
  private readonly queue = new ByteQueue();
  private readonly sealedSize: number;
  private counter = 0;
  private failure: Error | undefined;
  private done = false;

  constructor(
    private readonly key: Buffer,
    chunkSize: number,
  ) {
    this.sealedSize = chunkSize + TAG_BYTES;
  }

  /** Opens every chunk that is followed by more data, so it cannot be the last one. */
  write(data: Uint8Array): Buffer[] {
    return this.sticky(() => {
      if (this.done) throw new TamperedError('unexpected data after the final chunk');
      this.queue.push(data);
      const out: Buffer[] = [];
      while (this.queue.length > this.sealedSize) out.push(this.openMiddle(this.queue.take(this.sealedSize)));
      this.queue.own();
      return out;
    });
  }

  end(): Buffer[] {
    return this.sticky(() => {
      if (this.done) return [];
      this.done = true;
      return [this.openFinal(this.queue.take(this.queue.length))];
    });
  }

  private sticky(step: () => Buffer[]): Buffer[] {
    if (this.failure) throw this.failure;
    try {
      return step();
    } catch (err) {
      this.failure = err as Error;
      throw err;
    }
  }

  private openMiddle(sealed: Buffer): Buffer {
    const plaintext = this.open(sealed, false);
    if (plaintext) {
      this.counter++;
      return plaintext;
    }
    // A full chunk that opens as the last one but has data after it: trailing garbage, not a bad chunk.
    if (this.open(sealed, true)) throw new TamperedError(`unexpected data after the final chunk (chunk ${this.counter})`);
    throw this.tampered();
  }

  private openFinal(sealed: Buffer): Buffer {
    if (sealed.length === 0) {
      throw new TruncatedError(
        this.counter === 0
          ? 'file truncated: it ends after the header'
          : `file truncated: it ends after chunk ${this.counter - 1} without the final chunk`,
      );
    }
    if (sealed.length < TAG_BYTES) throw new TruncatedError(`file truncated: chunk ${this.counter} is incomplete`);
    const plaintext = this.open(sealed, true);
    if (plaintext) {
      // Only an empty file has an empty final chunk; elsewhere it would let a truncation pass.
      if (plaintext.length === 0 && this.counter > 0) throw new TamperedError('data corrupted or tampered: empty final chunk');
      this.counter++;
      return plaintext;
    }
    if (sealed.length === this.sealedSize && this.open(sealed, false)) {
      throw new TruncatedError(`file truncated: it ends after chunk ${this.counter} without the final chunk`);
    }
    throw new TamperedError(`data corrupted or tampered: chunk ${this.counter} failed authentication (or the file was cut short)`);
  }

  private tampered(): TamperedError {
    return new TamperedError(`data corrupted or tampered: chunk ${this.counter} failed authentication`);
  }

  /** The plaintext if the chunk authenticates at the current counter with this flag, else undefined. */
  private open(sealed: Buffer, last: boolean): Buffer | undefined {
    return gcmOpen(this.key, chunkNonce(this.counter, last), sealed);
  }
}

/** AES-256-GCM: the plaintext of `sealed` (ciphertext, then the tag), or undefined when it does not authenticate. */
export function gcmOpen(key: Uint8Array, iv: Uint8Array, sealed: Uint8Array, additionalData?: Uint8Array): Buffer | undefined {
  if (sealed.length < TAG_BYTES) return undefined;
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  if (additionalData) decipher.setAAD(additionalData);
  const plaintext = decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES));
  try {
    decipher.final();
  } catch {
    return undefined;
  }
  return plaintext;
}
