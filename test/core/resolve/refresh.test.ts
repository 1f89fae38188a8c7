import { describe, expect, it } from 'vitest';
import { NotFoundError } from '../../../core/errors.js';
import { TokenCache, backoffDelay, refreshWindows } from '../../../core/resolve/refresh.js';
import { FakeClock, seededRandom, settle } from '../../fakes/clock.js';
import { FakeProvider } from '../../fakes/provider.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

function setup(options: { lifetimeMs?: number; fallback?: Record<string, string>; hosts?: string[] } = {}) {
  const clock = new FakeClock();
  const provider = new FakeProvider({ now: clock.now, lifetimeMs: options.lifetimeMs ?? 12 * HOUR, hosts: options.hosts });
  const cache = new TokenCache({
    resolve: provider.resolve,
    now: clock.now,
    timers: clock,
    random: seededRandom(7),
    fallbackFor: (host) => options.fallback?.[host],
  });
  return { clock, provider, cache };
}

describe('refreshWindows', () => {
  it.each([
    ['ECR, 12 h', 12 * HOUR, 60 * MINUTE, 5 * MINUTE],
    ['Google, 1 h', HOUR, 15 * MINUTE, 5 * MINUTE],
    ['ACR, 3 h', 3 * HOUR, 45 * MINUTE, 5 * MINUTE],
    ['a 20-second test token', 20 * SECOND, 5 * SECOND, 2 * SECOND],
    ['zero', 0, 0, 0],
    ['negative (clock skew)', -5 * SECOND, 0, 0],
  ])('%s', (_name, life, advisory, mandatory) => {
    expect(refreshWindows(life)).toEqual({ advisoryMs: advisory, mandatoryMs: mandatory });
  });
});

describe('backoffDelay', () => {
  const backoff = { baseMs: 1000, capMs: 5 * MINUTE };
  it('doubles from the base and stops at the cap, jittered down by at most a fifth', () => {
    for (const [attempt, ceiling] of [
      [0, 1000],
      [1, 1000],
      [2, 2000],
      [3, 4000],
      [9, 256_000],
      [10, 5 * MINUTE],
      [40, 5 * MINUTE],
    ] as const) {
      expect(backoffDelay(attempt, backoff, () => 0.999999)).toBe(ceiling);
      expect(backoffDelay(attempt, backoff, () => 0)).toBe(Math.round(ceiling * 0.8));
    }
  });
});

describe('TokenCache', () => {
  it('single flight: 500 concurrent gets on a cold cache make one provider call', async () => {
    const { provider, cache } = setup();
    provider.hold();
    const gets = Promise.all(Array.from({ length: 500 }, () => cache.get(ECR)));
    await settle();
    expect(provider.callCount(ECR)).toBe(1);
    provider.release();
    const lookups = await gets;
    expect(new Set(lookups.map((l) => l.credential.secret)).size).toBe(1);
    expect(provider.callCount()).toBe(1);
    expect((await cache.get(ECR)).cached).toBe(true);
    expect(provider.callCount()).toBe(1);
  });

  it('separate registries get separate calls', async () => {
    const { provider, cache } = setup();
    await Promise.all([cache.get('a.example'), cache.get('b.example'), cache.get('a.example')]);
    expect(provider.callCount('a.example')).toBe(1);
    expect(provider.callCount('b.example')).toBe(1);
  });

  it('refreshes a 20-second token in the background about 5 s before expiry; no get waits or sees it expired', async () => {
    const { clock, provider, cache } = setup({ lifetimeMs: 20 * SECOND });
    await cache.get(ECR);
    for (let t = 0; t < 120; t++) {
      await clock.advance(500);
      const callsBefore = provider.callCount();
      const lookup = await cache.get(ECR);
      expect(lookup.cached).toBe(true);
      expect(provider.callCount()).toBe(callsBefore);
      expect(lookup.credential.expiresAt!.getTime()).toBeGreaterThan(clock.now());
    }
    // 60 s of 20 s tokens, each refreshed 4–5 s early: the first fetch plus 3 or 4 refreshes.
    expect(provider.callCount()).toBeGreaterThanOrEqual(4);
    expect(provider.callCount()).toBeLessThanOrEqual(5);
  });

  it('the background refresh fires within the jittered advisory window', async () => {
    const { clock, cache } = setup({ lifetimeMs: 12 * HOUR });
    const start = clock.now();
    await cache.get(ECR);
    const [refreshAt] = clock.scheduled();
    expect(refreshAt).toBeGreaterThanOrEqual(start + 11 * HOUR);
    expect(refreshAt).toBeLessThanOrEqual(start + 11 * HOUR + 12 * MINUTE);
  });

  it('in the advisory window a get returns the cached token at once and starts one refresh', async () => {
    const { clock, provider, cache } = setup({ lifetimeMs: HOUR });
    const first = await cache.get(ECR);
    cache.close(); // no timers: the get itself must notice the window
    await clock.advance(HOUR - 14 * MINUTE);
    provider.hold();
    const results = await Promise.all([cache.get(ECR), cache.get(ECR), cache.get(ECR)]);
    expect(results.every((r) => r.cached && r.credential.secret === first.credential.secret)).toBe(true);
    expect(provider.callCount()).toBe(2);
    provider.release();
    await settle();
    expect((await cache.get(ECR)).credential.secret).not.toBe(first.credential.secret);
  });

  it('in the mandatory window callers wait for the refresh (one call) and get the new token', async () => {
    const { clock, provider, cache } = setup({ lifetimeMs: HOUR });
    const first = await cache.get(ECR);
    cache.close();
    await clock.advance(HOUR - 2 * MINUTE);
    const results = await Promise.all([cache.get(ECR), cache.get(ECR)]);
    expect(provider.callCount()).toBe(2);
    for (const r of results) {
      expect(r.cached).toBe(false);
      expect(r.credential.secret).not.toBe(first.credential.secret);
    }
  });

  it('provider down while a token is valid: every get succeeds, failures are counted, backoff grows, recovery refreshes', async () => {
    const { clock, provider, cache } = setup({ lifetimeMs: HOUR });
    const first = await cache.get(ECR);
    provider.outage = 'throttled';
    await clock.advance(HOUR - 14 * MINUTE); // the advisory timer fires and fails
    const retries: number[] = [];
    for (let t = 0; t < 13 * 60; t++) {
      await clock.advance(SECOND);
      const lookup = await cache.get(ECR);
      expect(lookup.credential.secret).toBe(first.credential.secret);
      const [status] = cache.status();
      if (status!.nextRetryAt !== undefined && retries.at(-1) !== status!.nextRetryAt) retries.push(status!.nextRetryAt);
    }
    const [status] = cache.status();
    expect(status!.failures).toBeGreaterThanOrEqual(5);
    expect(status!.consecutiveFailures).toBe(status!.failures);
    expect(status!.lastError?.message).toMatch(/ThrottlingException/);
    const gaps = retries.slice(1).map((at, i) => at - retries[i]!);
    expect(gaps.at(-1)!).toBeGreaterThan(gaps[0]!);
    provider.outage = undefined;
    await clock.advance(2 * MINUTE);
    const recovered = await cache.get(ECR);
    expect(recovered.credential.secret).not.toBe(first.credential.secret);
    expect(cache.status()[0]!.consecutiveFailures).toBe(0);
  });

  it('never serves an expired token: after expiry during an outage the get fails', async () => {
    const { clock, provider, cache } = setup({ lifetimeMs: 20 * SECOND });
    await cache.get(ECR);
    provider.outage = 'refused';
    await clock.advance(20 * SECOND);
    await expect(cache.get(ECR)).rejects.toThrow(/ECONNREFUSED/);
    await clock.advance(10 * MINUTE);
    await expect(cache.get(ECR)).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a token expiring one millisecond from now is still served; at expiry it is not', async () => {
    const { clock, provider, cache } = setup({ lifetimeMs: 20 * SECOND });
    const first = await cache.get(ECR);
    cache.close();
    provider.outage = 'server-error';
    await clock.advance(20 * SECOND - 1);
    expect((await cache.get(ECR)).credential.secret).toBe(first.credential.secret);
    await clock.advance(1);
    await expect(cache.get(ECR)).rejects.toThrow(/500/);
  });

  it('falls back to the configured registry only when nothing valid is left', async () => {
    const clock = new FakeClock();
    const provider = new FakeProvider({ now: clock.now, lifetimeMs: 20 * SECOND });
    let ecrDown = false;
    const cache = new TokenCache({
      resolve: (host) => (host === ECR && ecrDown ? Promise.reject(new Error('ECR unreachable')) : provider.resolve(host)),
      now: clock.now,
      timers: clock,
      fallbackFor: (host) => (host === ECR ? 'mirror.example' : undefined),
    });
    const first = await cache.get(ECR);
    ecrDown = true;
    await clock.advance(17 * SECOND);
    expect(await cache.get(ECR)).toMatchObject({ servedBy: ECR, credential: { secret: first.credential.secret } });
    expect(provider.callCount('mirror.example')).toBe(0);
    await clock.advance(3 * SECOND);
    expect(await cache.get(ECR)).toMatchObject({ servedBy: 'mirror.example', credential: { secret: /mirror/ } });
    ecrDown = false;
    await clock.advance(10 * MINUTE); // the backoff retry succeeds
    expect(await cache.get(ECR)).toMatchObject({ servedBy: ECR, cached: true });
    cache.close();
  });

  it('a failing fallback reports both reasons', async () => {
    const cache = new TokenCache({
      resolve: (host) => Promise.reject(new Error(`${host} is down`)),
      fallbackFor: () => 'b.example',
    });
    await expect(cache.get('a.example')).rejects.toThrow('a.example is down; fallback b.example: b.example is down');
  });

  it('not found is not retried, leaves no entry and does not fall back', async () => {
    const { provider, cache } = setup({ hosts: [ECR], fallback: { 'other.example': ECR } });
    await expect(cache.get('other.example')).rejects.toBeInstanceOf(NotFoundError);
    expect(cache.status()).toEqual([]);
    expect(provider.callCount(ECR)).toBe(0);
  });

  it('invalidate drops one registry; the next get fetches anew; others are untouched', async () => {
    const { provider, cache } = setup();
    const a = await cache.get('a.example');
    const b = await cache.get('b.example');
    expect(cache.invalidate('a.example')).toBe(true);
    expect(cache.invalidate('never.example')).toBe(false);
    expect((await cache.get('a.example')).credential.secret).not.toBe(a.credential.secret);
    expect((await cache.get('b.example')).credential.secret).toBe(b.credential.secret);
    expect(provider.callCount('a.example')).toBe(2);
  });

  it('a refresh that started before invalidate does not put its token back', async () => {
    const { provider, cache } = setup();
    provider.hold();
    const before = cache.get(ECR);
    await settle();
    cache.invalidate(ECR);
    provider.release();
    await before;
    await cache.get(ECR);
    expect(provider.callCount(ECR)).toBe(2);
  });

  it('one caller giving up does not cancel the shared call', async () => {
    const { provider, cache } = setup();
    provider.hold();
    const abandoned = Promise.race([cache.get(ECR), Promise.resolve('gave up')]);
    expect(await abandoned).toBe('gave up');
    provider.release();
    const lookup = await cache.get(ECR);
    expect(provider.callCount(ECR)).toBe(1);
    expect(lookup.credential.secret).toBe(`token-${ECR}-1`);
  });

  it('refuses a token that is already expired', async () => {
    const clock = new FakeClock();
    const cache = new TokenCache({
      resolve: async () => ({ username: 'u', secret: 's', expiresAt: new Date(clock.now() - 1) }),
      now: clock.now,
      timers: clock,
    });
    await expect(cache.get('a.example')).rejects.toThrow(/already expired/);
  });

  it('keeps a credential without expiry for the static lifetime, then reads it again', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const cache = new TokenCache({
      resolve: async () => ({ username: 'u', secret: `s${++calls}` }),
      now: clock.now,
      timers: clock,
      staticLifetimeMs: 10 * MINUTE,
    });
    await cache.get('ghcr.io');
    await clock.advance(7 * MINUTE);
    expect((await cache.get('ghcr.io')).credential.secret).toBe('s1');
    await clock.advance(2 * MINUTE);
    expect((await cache.get('ghcr.io')).credential.secret).toBe('s2');
    cache.close();
  });

  it('close stops every timer', async () => {
    const { clock, cache } = setup();
    await cache.get('a.example');
    await cache.get('b.example');
    expect(clock.scheduled()).toHaveLength(2);
    cache.close();
    expect(clock.scheduled()).toHaveLength(0);
  });
});
