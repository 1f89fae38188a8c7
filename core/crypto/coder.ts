/**
 * @module
 * The push-style coder every encrypted-file transform is, how coders chain, and the one coder that
 * tells formats apart: it holds the first bytes until `detectFormat` decides (binary, armored or
 * legacy), then hands everything to the coder made for that format. `decrypt` and `rekey` both
 * read their input through it.
 */
import { DETECT_BYTES, detectFormat, type Format } from './detect.js';

/**
 * A push-style coder: bytes in, bytes out, `end` once. Streams and buffers both drive these. A
 * coder keeps no reference to `data` once `write` returns (it copies what it holds back), and its
 * output never aliases its input, so a caller may refill the same buffer for the next write.
 */
export interface Coder {
  write(data: Uint8Array): Buffer[];
  end(): Buffer[];
}

/** `a` then `b`, without copying when `a` is empty (the common case: one big write). */
export function joinBytes(a: Buffer, b: Uint8Array): Buffer {
  return a.length === 0 ? Buffer.from(b.buffer, b.byteOffset, b.length) : Buffer.concat([a, b]);
}

/** Chains coders: the output of each is the input of the next. */
export function pipe(...coders: [Coder, ...Coder[]]): Coder {
  return coders.reduce((first, second) => ({
    write: (data) => first.write(data).flatMap((piece) => second.write(piece)),
    end: () => [...first.end().flatMap((piece) => second.write(piece)), ...second.end()],
  }));
}

/** Reads the format from the first bytes, then runs the coder `coderFor` makes for it. */
export class DetectingCoder implements Coder {
  private prefix: Buffer = Buffer.alloc(0);
  private inner: Coder | undefined;

  constructor(private readonly coderFor: (format: Format) => Coder) {}

  write(data: Uint8Array): Buffer[] {
    if (this.inner) return this.inner.write(data);
    this.prefix = joinBytes(this.prefix, data);
    const format = detectFormat(this.prefix.subarray(0, DETECT_BYTES), false);
    if (format) return this.start(format);
    this.prefix = Buffer.from(this.prefix); // held until more comes: own it
    return [];
  }

  end(): Buffer[] {
    if (this.inner) return this.inner.end();
    // At the end of the input detectFormat decides or throws; then `end` goes to the coder it chose.
    const out = this.start(detectFormat(this.prefix, true) as Format);
    return [...out, ...this.end()];
  }

  private start(format: Format): Buffer[] {
    const inner = this.coderFor(format);
    this.inner = inner;
    const prefix = this.prefix;
    this.prefix = Buffer.alloc(0);
    return inner.write(prefix);
  }
}
