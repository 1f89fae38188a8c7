/**
 * @module
 * A scriptable provider for tests of what wraps providers (the refresh cache, the daemon): it mints
 * numbered tokens with a chosen lifetime, counts calls per registry, can be held open (to show
 * callers sharing one call) and can be switched to fail the way clouds fail.
 */
import { NotFoundError, ProviderError } from '../../core/errors.js';
import type { Credential } from '../../core/providers/provider.js';

export type Outage = 'refused' | 'server-error' | 'throttled';

export interface FakeProviderOptions {
  now: () => number;
  lifetimeMs?: number;
  /** Hosts it knows; others are not found. Default: every host. */
  hosts?: readonly string[];
}

export class FakeProvider {
  readonly calls = new Map<string, number>();
  lifetimeMs: number;
  outage: Outage | undefined;
  #serial = 0;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(private readonly options: FakeProviderOptions) {
    this.lifetimeMs = options.lifetimeMs ?? 12 * 3600_000;
  }

  /** The provider function, bound: `(registryHost) => Promise<Credential>`. */
  readonly resolve = async (registryHost: string): Promise<Credential> => {
    this.calls.set(registryHost, (this.calls.get(registryHost) ?? 0) + 1);
    if (this.#gate) await this.#gate;
    if (this.options.hosts && !this.options.hosts.includes(registryHost)) throw new NotFoundError();
    if (this.outage === 'refused') throw new ProviderError(`connect ECONNREFUSED 127.0.0.1:443 (${registryHost})`);
    if (this.outage === 'server-error') throw new ProviderError('ServerException: 500 Internal Server Error');
    if (this.outage === 'throttled') throw new ProviderError('ThrottlingException: Rate exceeded');
    const serial = ++this.#serial;
    return {
      username: 'AWS',
      secret: `token-${serial}-${registryHost}`,
      expiresAt: new Date(this.options.now() + this.lifetimeMs),
    };
  };

  callCount(registryHost?: string): number {
    if (registryHost !== undefined) return this.calls.get(registryHost) ?? 0;
    return [...this.calls.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Calls made from now on wait until `release()`. */
  hold(): void {
    this.#gate = new Promise((resolve) => {
      this.#open = resolve;
    });
  }

  release(): void {
    this.#open?.();
    this.#gate = this.#open = undefined;
  }
}
