/**
 * @module
 * The refresh-ahead token cache behind `berth daemon`. It wraps a resolve function (registry host →
 * credential with `expiresAt`) and keeps each registry's token fresh before it expires, so a `get`
 * answers from memory and never waits on a cloud API:
 * - an advisory window before expiry in which callers get the cached token at once while one
 *   background refresh runs (a timer starts it, so an idle registry stays fresh too);
 * - a mandatory window, closer to expiry, in which callers wait for the refresh;
 * - single flight: one provider call per registry at a time, shared by every caller;
 * - on failure, the still-valid token keeps being served and the refresh is retried with exponential
 *   backoff and jitter; an expired token is never served; the configured fallback registry stands in
 *   only when nothing valid is left.
 * Time, randomness and timers are injected so tests drive the clock.
 */
import { NotFoundError, ProviderError, oneLine } from '../errors.js';
import type { Credential } from '../providers/provider.js';

/** Resolves one registry's credential, calling its provider. */
export type ResolveCredential = (registryHost: string) => Promise<Credential>;

export interface Timers {
  set(callback: () => void, delayMs: number): unknown;
  clear(handle: unknown): void;
}

export interface TokenCacheOptions {
  resolve: ResolveCredential;
  now?: () => number;
  /** A number in [0, 1); jitter spreads refreshes of many registries and daemons apart. */
  random?: () => number;
  timers?: Timers;
  /** The registry whose token stands in when this one has nothing valid left. */
  fallbackFor?: (registryHost: string) => string | undefined;
  backoff?: { baseMs: number; capMs: number };
  /** How long a credential without `expiresAt` (static) is kept before it is read again. */
  staticLifetimeMs?: number;
}

export interface Lookup {
  credential: Credential;
  /** The registry whose token was served: the one asked for, or its fallback. */
  servedBy: string;
  /** True when the caller did not wait on a provider. */
  cached: boolean;
}

export interface RegistryStatus {
  registryHost: string;
  fetchedAt?: number;
  expiresAt?: number;
  refreshAt?: number;
  refreshing: boolean;
  /** Failures since the last successful refresh; a token is stale while this is above 0. */
  consecutiveFailures: number;
  lastError?: { message: string; at: number };
  nextRetryAt?: number;
  refreshes: number;
  failures: number;
  hits: number;
  misses: number;
}

interface Entry {
  credential?: Credential;
  fetchedAt?: number;
  expiresAt?: number;
  refreshAt?: number;
  mandatoryAt?: number;
  /** Bumped by invalidate(): a refresh that started before it does not store its result. */
  generation: number;
  consecutiveFailures: number;
  lastError?: { message: string; at: number };
  nextRetryAt?: number;
  timer?: unknown;
  refreshes: number;
  failures: number;
  hits: number;
  misses: number;
}

const MINUTE = 60_000;
const JITTER = 0.2;
/** setTimeout's limit; static lifetimes are far below it, but a provider could claim years. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export const DEFAULT_BACKOFF = { baseMs: 1_000, capMs: 5 * MINUTE };
export const DEFAULT_STATIC_LIFETIME_MS = 15 * MINUTE;

/**
 * The advisory and mandatory windows for a token of this lifetime. Both shrink with short lifetimes,
 * so a 20-second token is refreshed in the background about 5 s before expiry and no caller waits.
 */
export function refreshWindows(lifetimeMs: number): { advisoryMs: number; mandatoryMs: number } {
  const life = Math.max(0, lifetimeMs);
  return { advisoryMs: Math.min(60 * MINUTE, 0.25 * life), mandatoryMs: Math.min(5 * MINUTE, 0.1 * life) };
}

/** Exponential backoff with jitter: attempt 1 waits about `baseMs`, doubling up to `capMs`. */
export function backoffDelay(attempt: number, backoff: { baseMs: number; capMs: number }, random: () => number): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling * (1 - JITTER + JITTER * random()));
}

const defaultTimers: Timers = {
  set(callback, delayMs) {
    const timer = setTimeout(callback, delayMs);
    timer.unref();
    return timer;
  },
  clear(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};

export class TokenCache {
  readonly #resolve: ResolveCredential;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #timers: Timers;
  readonly #fallbackFor: (registryHost: string) => string | undefined;
  readonly #backoff: { baseMs: number; capMs: number };
  readonly #staticLifetimeMs: number;
  readonly #entries = new Map<string, Entry>();
  /** Single flight: the pending provider call per registry, removed when it settles. */
  readonly #inflight = new Map<string, Promise<Credential>>();
  #closed = false;

  constructor(options: TokenCacheOptions) {
    this.#resolve = options.resolve;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#timers = options.timers ?? defaultTimers;
    this.#fallbackFor = options.fallbackFor ?? (() => undefined);
    this.#backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.#staticLifetimeMs = options.staticLifetimeMs ?? DEFAULT_STATIC_LIFETIME_MS;
  }

  /** A valid credential for the registry, from memory when possible. */
  async get(registryHost: string): Promise<Lookup> {
    try {
      return await this.#lookup(registryHost);
    } catch (err) {
      const fallback = this.#fallbackFor(registryHost);
      if (fallback === undefined || fallback === registryHost || err instanceof NotFoundError) throw err;
      // Only reached when nothing valid is left for registryHost: a valid token is served even when stale.
      const lookup = await this.#lookup(fallback).catch((fallbackErr: unknown) => {
        throw new ProviderError(`${oneLine(err)}; fallback ${fallback}: ${oneLine(fallbackErr)}`, { cause: err });
      });
      return { ...lookup, servedBy: fallback };
    }
  }

  /**
   * What `get` answers at once, from memory: the registry's credential while it may be served
   * without waiting for a refresh (one that is due is started in the background, as `get` does);
   * undefined when `get` would have to wait or fail.
   */
  cached(registryHost: string): Lookup | undefined {
    const entry = this.#entries.get(registryHost);
    const now = this.#now();
    const { credential, expiresAt = 0 } = entry ?? {};
    if (!entry || !credential || now >= expiresAt) return undefined;
    const retryAllowed = entry.nextRetryAt === undefined || now >= entry.nextRetryAt;
    if (now >= (entry.mandatoryAt ?? expiresAt) && (retryAllowed || this.#inflight.has(registryHost))) return undefined;
    if (now >= (entry.refreshAt ?? expiresAt) && retryAllowed) this.#refreshInBackground(registryHost);
    entry.hits++;
    return { credential, servedBy: registryHost, cached: true };
  }

  async #lookup(registryHost: string): Promise<Lookup> {
    const hit = this.cached(registryHost);
    if (hit) return hit;
    const entry = this.#entry(registryHost);
    entry.misses++;
    const { credential, expiresAt = 0 } = entry;
    if (!credential || this.#now() >= expiresAt) {
      return { credential: await this.#refresh(registryHost), servedBy: registryHost, cached: false };
    }
    // valid, but past the point where it must be refreshed before it is served again
    const fresh = await this.#refresh(registryHost).catch(() => undefined);
    if (fresh) return { credential: fresh, servedBy: registryHost, cached: false };
    return this.#lookup(registryHost); // still valid → served; expired meanwhile → a cold fetch
  }

  /** Drops one registry's token (say, after the registry answered 401); the next get fetches anew. */
  invalidate(registryHost: string): boolean {
    const entry = this.#entries.get(registryHost);
    if (!entry) return false;
    const had = entry.credential !== undefined;
    this.#clearTimer(entry);
    entry.generation++;
    entry.credential = entry.fetchedAt = entry.expiresAt = entry.refreshAt = entry.mandatoryAt = undefined;
    entry.nextRetryAt = undefined;
    this.#inflight.delete(registryHost);
    return had;
  }

  status(): RegistryStatus[] {
    return [...this.#entries].map(([registryHost, entry]) => ({
      registryHost,
      fetchedAt: entry.fetchedAt,
      expiresAt: entry.expiresAt,
      refreshAt: entry.refreshAt,
      refreshing: this.#inflight.has(registryHost),
      consecutiveFailures: entry.consecutiveFailures,
      lastError: entry.lastError,
      nextRetryAt: entry.nextRetryAt,
      refreshes: entry.refreshes,
      failures: entry.failures,
      hits: entry.hits,
      misses: entry.misses,
    }));
  }

  /** Stops every timer; pending provider calls settle but schedule nothing more. */
  close(): void {
    this.#closed = true;
    for (const entry of this.#entries.values()) this.#clearTimer(entry);
  }

  #entry(registryHost: string): Entry {
    let entry = this.#entries.get(registryHost);
    if (!entry) {
      entry = { generation: 0, consecutiveFailures: 0, refreshes: 0, failures: 0, hits: 0, misses: 0 };
      this.#entries.set(registryHost, entry);
    }
    return entry;
  }

  #refreshInBackground(registryHost: string): void {
    // Failures are recorded on the entry and retried on a timer; nobody awaits this promise.
    this.#refresh(registryHost).catch(() => undefined);
  }

  #refresh(registryHost: string): Promise<Credential> {
    const pending = this.#inflight.get(registryHost);
    if (pending) return pending;
    const call = this.#callProvider(registryHost);
    const shared = call.finally(() => {
      if (this.#inflight.get(registryHost) === shared) this.#inflight.delete(registryHost);
    });
    this.#inflight.set(registryHost, shared);
    return shared;
  }

  async #callProvider(registryHost: string): Promise<Credential> {
    const entry = this.#entry(registryHost);
    const generation = entry.generation;
    let credential: Credential;
    try {
      credential = await this.#resolve(registryHost);
      if (credential.expiresAt && credential.expiresAt.getTime() <= this.#now()) {
        throw new ProviderError(`the provider for ${registryHost} returned a token that has already expired`);
      }
    } catch (err) {
      if (entry.generation === generation) this.#recordFailure(registryHost, entry, err);
      throw err;
    }
    if (entry.generation === generation) this.#store(registryHost, entry, credential);
    return credential;
  }

  #store(registryHost: string, entry: Entry, credential: Credential): void {
    const now = this.#now();
    const expiresAt = credential.expiresAt?.getTime() ?? now + this.#staticLifetimeMs;
    const { advisoryMs, mandatoryMs } = refreshWindows(expiresAt - now);
    Object.assign(entry, {
      credential,
      fetchedAt: now,
      expiresAt,
      refreshAt: expiresAt - advisoryMs * (1 - JITTER * this.#random()),
      mandatoryAt: expiresAt - mandatoryMs * (1 - JITTER * this.#random()),
      consecutiveFailures: 0,
      nextRetryAt: undefined,
    });
    entry.refreshes++;
    this.#schedule(registryHost, entry, entry.refreshAt! - now);
  }

  #recordFailure(registryHost: string, entry: Entry, err: unknown): void {
    const now = this.#now();
    entry.failures++;
    entry.consecutiveFailures++;
    entry.lastError = { message: oneLine(err), at: now };
    if (entry.credential === undefined) {
      // Never had a token: nothing to keep fresh, the next get tries again. Unknown hosts leave no trace.
      if (err instanceof NotFoundError) this.#entries.delete(registryHost);
      return;
    }
    const delay = backoffDelay(entry.consecutiveFailures, this.#backoff, this.#random);
    entry.nextRetryAt = now + delay;
    this.#schedule(registryHost, entry, delay);
  }

  #schedule(registryHost: string, entry: Entry, delayMs: number): void {
    this.#clearTimer(entry);
    if (this.#closed) return;
    entry.timer = this.#timers.set(
      () => {
        entry.timer = undefined;
        this.#refreshInBackground(registryHost);
      },
      Math.min(MAX_TIMER_MS, Math.max(0, delayMs)),
    );
  }

  #clearTimer(entry: Entry): void {
    if (entry.timer !== undefined) this.#timers.clear(entry.timer);
    entry.timer = undefined;
  }
}
