/**
 * @module
 * The berth file format as Node Transform streams, in constant memory: one chunk plus stream buffers.
 * Apart from ./format.ts so that whole-buffer callers (the credential store on every `get`) do not
 * load node:stream.
 */
import { Transform } from 'node:stream';
import { type Coder, type DecryptOptions, type EncryptOptions, FileOpener, FileSealer } from './format.js';
import type { UserKeys } from './header.js';

/** A node Transform around a coder; memory stays bounded by one chunk plus stream buffers. */
export function coderStream(coder: Coder): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      try {
        for (const piece of coder.write(chunk)) this.push(piece);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        for (const piece of coder.end()) this.push(piece);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}

export function createEncryptStream(keys: readonly Uint8Array[], options: EncryptOptions = {}): Transform {
  return coderStream(new FileSealer(keys, options));
}

export function createDecryptStream(key: UserKeys, options: DecryptOptions = {}): Transform {
  return coderStream(new FileOpener(key, options));
}
