/**
 * @module
 * The one fake cloud provider, for tests of everything that wraps providers (resolution and its
 * retries, the disk cache, the daemon's token cache, dockercfg generation). It is a plain `Provider`:
 * it mints numbered tokens with a chosen lifetime, counts calls per registry, can be held open (to
 * show callers sharing one call), and fails the way clouds fail: each failure is a `ProviderError`
 * whose `cause` has the shape the SDKs give, so whether a retry may help is decided by the code under
 * test exactly as for a real provider.
 */
import type { ProviderName } from '../../core/config/load.js';
import { NotFoundError, ProviderError } from '../../core/errors.js';
import type { ProviderLoader, ProviderModule } from '../../core/providers/index.js';
import type { Credential, Provider, ProviderRequest } from '../../core/providers/provider.js';

/**
 * How a call fails. `reset`, `refused`, `server-error` and `throttled` may pass (a retry can help);
 * `denied` is the service's refusal (403) and never passes.
 */
export type Failure = 'reset' | 'refused' | 'server-error' | 'throttled' | 'denied';

export interface FakeProviderOptions {
  now?: () => number;
  username?: string;
  /** Token lifetime; undefined for credentials that never expire (static). */
  lifetimeMs?: number;
  /** Hosts it knows; others are not found. Default: every host. */
  hosts?: readonly string[];
  /** When set, the module exports an identity function returning this (keyed by request). */
  identity?: (request: ProviderRequest) => string;
}

/** The error a real provider raises for `failure`, its SDK's error kept as the cause. */
export function providerFailure(failure: Failure, registryHost: string, message?: string): ProviderError {
  const causes: Record<Failure, { message: string; cause: object }> = {
    reset: { message: `${registryHost} is unreachable`, cause: { message: 'socket hang up', code: 'ECONNRESET' } },
    refused: {
      message: `connect ECONNREFUSED 127.0.0.1:443 (${registryHost})`,
      cause: { message: 'connect ECONNREFUSED 127.0.0.1:443', code: 'ECONNREFUSED' },
    },
    'server-error': {
      message: 'ServerException: 500 Internal Server Error',
      cause: { name: 'ServerException', $fault: 'server', $metadata: { httpStatusCode: 500 } },
    },
    throttled: {
      message: 'ThrottlingException: Rate exceeded',
      cause: { name: 'ThrottlingException', $fault: 'client', $retryable: { throttling: true }, $metadata: { httpStatusCode: 400 } },
    },
    denied: {
      message: 'AccessDeniedException: not authorized to perform ecr:GetAuthorizationToken',
      cause: { name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 403 } },
    },
  };
  const { message: defaultMessage, cause } = causes[failure];
  return new ProviderError(message ?? defaultMessage, { cause: Object.assign(new Error(failure), cause) });
}

export class FakeProvider {
  /** Calls per registry host, failed and held ones included. */
  readonly calls = new Map<string, number>();
  /** When set, every call fails this way (an outage), after any `failNext` is used up. */
  outage: Failure | undefined;
  lifetimeMs: number | undefined;
  readonly #options: FakeProviderOptions;
  readonly #failures = new Map<string, { count: number; failure: Failure; message?: string }>();
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;

  constructor(options: FakeProviderOptions = {}) {
    this.#options = options;
    this.lifetimeMs = options.lifetimeMs;
  }

  /** The Provider: the n-th call for a host (failures included) returns `token-<host>-<n>`. */
  readonly provider: Provider = async (request) => {
    const { registryHost } = request;
    const count = (this.calls.get(registryHost) ?? 0) + 1;
    this.calls.set(registryHost, count);
    if (this.#gate) await this.#gate;
    if (this.#options.hosts && !this.#options.hosts.includes(registryHost)) throw new NotFoundError();
    const scripted = this.#failures.get(registryHost);
    if (scripted && scripted.count > 0) {
      scripted.count -= 1;
      throw providerFailure(scripted.failure, registryHost, scripted.message);
    }
    if (this.outage) throw providerFailure(this.outage, registryHost);
    return {
      username: this.#options.username ?? 'AWS',
      secret: `token-${registryHost}-${count}`,
      expiresAt: this.lifetimeMs === undefined ? undefined : new Date(request.now() + this.lifetimeMs),
    };
  };

  /** The provider called with a registry alone, as the daemon's token cache calls it. */
  readonly resolve = (registryHost: string): Promise<Credential> =>
    this.provider({ registryHost, options: {}, env: {}, now: this.#options.now ?? Date.now });

  /** The provider as a registered module (with an identity function when one was given). */
  get module(): ProviderModule {
    return this.#options.identity ? { provider: this.provider, identity: this.#options.identity } : { provider: this.provider };
  }

  callCount(registryHost?: string): number {
    if (registryHost !== undefined) return this.calls.get(registryHost) ?? 0;
    return [...this.calls.values()].reduce((sum, n) => sum + n, 0);
  }

  /** Makes the next `count` calls for `host` fail (Infinity: every call); `message` replaces the default. */
  failNext(host: string, count: number, failure: Failure = 'reset', message?: string): void {
    this.#failures.set(host, { count, failure, message });
  }

  /** Calls made from now on wait, already counted, until `release()`. */
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

/** A registration table whose every provider is `fake` (or the one given per name). */
export function fakeProviderTable(
  fake: FakeProvider,
  overrides: Partial<Record<ProviderName, FakeProvider>> = {},
): Record<ProviderName, ProviderLoader> {
  const load =
    (name: ProviderName): ProviderLoader =>
    async () =>
      (overrides[name] ?? fake).module;
  return { ecr: load('ecr'), 'ecr-public': load('ecr-public'), google: load('google'), azure: load('azure'), static: load('static') };
}
