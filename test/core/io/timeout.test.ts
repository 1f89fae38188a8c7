/** withTimeout: the work's result, or one error naming what took too long. */
import { describe, expect, it } from 'vitest';
import { BerthError } from '../../../core/errors.js';
import { withTimeout } from '../../../core/io/timeout.js';

describe('withTimeout', () => {
  it('passes a result and an error through', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(Promise.reject(new Error('locked')), 1000, 'x')).rejects.toThrow('locked');
  });

  it('gives up on work that never settles', async () => {
    const never = new Promise<never>(() => undefined);
    const err = await withTimeout(never, 20, 'listing the keychain store').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect((err as Error).message).toBe('listing the keychain store timed out after 0.02s');
  });
});
