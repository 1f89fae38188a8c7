/**
 * @module
 * A FIFO of byte buffers that hands out exact-length pieces, copying only when a piece spans two
 * buffers. The decoders use it to cut arbitrary reads into chunks in constant memory.
 */
export class ByteQueue {
  private readonly pieces: Buffer[] = [];
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.pieces.push(Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.length));
    this.size += data.length;
  }

  /** The first `n` bytes (n ≤ length), removed from the queue. */
  take(n: number): Buffer {
    const first = this.pieces[0];
    if (n === 0 || first === undefined) return Buffer.alloc(0);
    this.size -= n;
    if (first.length === n) {
      this.pieces.shift();
      return first;
    }
    if (first.length > n) {
      this.pieces[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const piece = this.pieces[0]!;
      const used = Math.min(piece.length, n - filled);
      piece.copy(out, filled, 0, used);
      filled += used;
      if (used === piece.length) this.pieces.shift();
      else this.pieces[0] = piece.subarray(used);
    }
    return out;
  }

  /** The first `n` bytes (or all, if fewer) without removing them. */
  peek(n: number): Buffer {
    const first = this.pieces[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.pieces, Math.min(n, this.size)).subarray(0, n);
  }
}
