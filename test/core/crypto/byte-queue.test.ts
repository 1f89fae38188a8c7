import { describe, expect, it } from 'vitest';
import { ByteQueue } from '../../../core/crypto/byte-queue.js';

describe('ByteQueue', () => {
  it('hands out exact pieces across buffer boundaries', () => {
    const queue = new ByteQueue();
    queue.push(Buffer.from('abc'));
    queue.push(Buffer.from(''));
    queue.push(Buffer.from('defgh'));
    expect(queue.length).toBe(8);
    expect(queue.peek(4).toString()).toBe('abcd');
    expect(queue.take(2).toString()).toBe('ab');
    expect(queue.take(4).toString()).toBe('cdef');
    expect(queue.take(0).toString()).toBe('');
    expect(queue.length).toBe(2);
    expect(queue.take(2).toString()).toBe('gh');
    expect(queue.length).toBe(0);
  });

  it('does not copy a piece that lies within one buffer', () => {
    const queue = new ByteQueue();
    const buffer = Buffer.from('0123456789');
    queue.push(buffer);
    expect(queue.take(4).buffer).toBe(buffer.buffer);
  });

  it('own() lets the caller refill its buffer without changing what is queued', () => {
    const queue = new ByteQueue();
    const buffer = Buffer.from('abcdef');
    queue.push(buffer);
    expect(queue.take(2).toString()).toBe('ab');
    queue.own();
    buffer.fill('x');
    queue.push(Buffer.from('gh'));
    queue.own();
    expect(queue.take(6).toString()).toBe('cdefgh');
  });
});
