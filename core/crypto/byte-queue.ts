/**
 * @module
 * A FIFO of byte buffers that hands out exact-length pieces, copying only when a piece spans two
 * buffers or when the caller wants its buffers back (own). The coders use it to cut arbitrary
 * reads into chunks in constant memory.
 */
export class ByteQueue {
  private readonly pieces: Buffer[] = [];
  private size = 0;
  /** pieces[borrowed…] are the caller's buffers; earlier ones are copies the queue owns. */
  private borrowed = 0;

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
      this.shift();
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
      if (used === piece.length) this.shift();
      else this.pieces[0] = piece.subarray(used);
    }
    return out;
  }

  /**
   * Replaces what is still queued by one copy the queue owns, so the caller may reuse the buffers
   * it pushed (a file reader filling one buffer over and over never faults in fresh pages).
   */
  own(): void {
    // Each pushed buffer is copied at most once, so many small writes stay linear.
    for (let i = this.borrowed; i < this.pieces.length; i++) this.pieces[i] = Buffer.from(this.pieces[i]!);
    this.borrowed = this.pieces.length;
  }

  private shift(): void {
    this.pieces.shift();
    this.borrowed = Math.max(0, this.borrowed - 1);
  }

  /** The first `n` bytes (or all, if fewer) without removing them. */
  peek(n: number): Buffer {
    const first = this.pieces[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.pieces, Math.min(n, this.size)).subarray(0, n);
  }
}
