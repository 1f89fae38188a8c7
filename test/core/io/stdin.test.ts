/** Bounded, time-limited stdin reads: the limit's boundaries, split chunks, silence and stream errors. */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../core/errors.js';
import { readAll } from '../../../core/io/stdin.js';

const LIMIT = 64;

describe('readAll', () => {
  it.each([
    [0, true],
    [LIMIT - 1, true],
    [LIMIT, true],
    [LIMIT + 1, false],
  ])('%i bytes with a %i-byte limit: accepted %s', async (size, accepted) => {
    const input = Readable.from([Buffer.alloc(size, 'a')]);
    const read = readAll(input, { limit: LIMIT });
    if (accepted) expect(await read).toBe('a'.repeat(size));
    else await expect(read).rejects.toThrow(new UsageError(`input too large: more than ${LIMIT} bytes on stdin`));
  });

  it('counts bytes across chunks: n in pieces passes, n+1 in pieces does not', async () => {
    const pieces = (total: number) => Readable.from(Array.from({ length: total }, () => Buffer.from('x')));
    expect(await readAll(pieces(LIMIT), { limit: LIMIT })).toBe('x'.repeat(LIMIT));
    await expect(readAll(pieces(LIMIT + 1), { limit: LIMIT })).rejects.toBeInstanceOf(UsageError);
  });

  it('counts bytes, not characters', async () => {
    const euro = '€'; // three bytes in UTF-8
    const fits = euro.repeat(LIMIT / 4); // 48 bytes
    expect(await readAll(Readable.from([Buffer.from(fits)]), { limit: LIMIT })).toBe(fits);
    await expect(readAll(Readable.from([Buffer.from(euro.repeat(22))]), { limit: LIMIT })).rejects.toThrow(/input too large/);
  });

  it('keeps a UTF-8 character split between chunks whole', async () => {
    const bytes = Buffer.from('ü-secret');
    expect(await readAll(Readable.from([bytes.subarray(0, 1), bytes.subarray(1)]))).toBe('ü-secret');
  });

  it('takes string chunks as well as bytes', async () => {
    const input = new PassThrough({ encoding: 'utf8' });
    input.end('{"ServerURL":"ghcr.io"}');
    expect(await readAll(input)).toBe('{"ServerURL":"ghcr.io"}');
  });

  it('gives up after the timeout when stdin stays open and silent', async () => {
    const input = new PassThrough();
    const started = Date.now();
    await expect(readAll(input, { timeoutMs: 200 })).rejects.toThrow(new UsageError('timed out after 0.2s waiting for stdin'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    input.destroy();
  });

  it('a slow writer that ends in time is not cut off', async () => {
    const input = new PassThrough();
    setTimeout(() => input.write('ghcr'), 20);
    setTimeout(() => input.end('.io'), 40);
    expect(await readAll(input, { timeoutMs: 5_000 })).toBe('ghcr.io');
  });

  it('a read error is one clear line', async () => {
    const input = new PassThrough();
    const read = readAll(input);
    input.destroy(new Error('EIO: i/o error'));
    await expect(read).rejects.toThrow(new UsageError('cannot read stdin: EIO: i/o error'));
  });

  it('stops listening once done: a refused input is not read further', async () => {
    const input = new PassThrough();
    const read = readAll(input, { limit: 4 });
    input.write('12345');
    await expect(read).rejects.toBeInstanceOf(UsageError);
    expect(input.listenerCount('data')).toBe(0);
    expect(input.isPaused()).toBe(true);
    input.destroy();
  });
});
