/**
 * @module
 * A fake cloud provider for tests: issues numbered tokens with a chosen lifetime, fails on request,
 * and counts its calls so tests can show when the cache spared one.
 */
import type { ProviderName } from '../../core/config/load.js';
import { ProviderError } from '../../core/errors.js';
import type { ProviderLoader, ProviderModule } from '../../core/providers/index.js';
import type { Provider, ProviderRequest } from '../../core/providers/provider.js';

export interface FakeCloud {
  /** Calls per registry host. */
  readonly calls: Map<string, number>;
  /** Total calls. */
  total(): number;
  /** Makes the next `count` calls for `host` fail (Infinity: every call). */
  failNext(host: string, count: number, message?: string): void;
  readonly module: ProviderModule;
}

export interface FakeCloudOptions {
  username?: string;
  /** Token lifetime; undefined for credentials that never expire. */
  lifetimeMs?: number;
  /** When set, the module exports an identity function returning this (keyed by request). */
  identity?: (request: ProviderRequest) => string;
}

export function fakeCloud(options: FakeCloudOptions = {}): FakeCloud {
  const calls = new Map<string, number>();
  const failures = new Map<string, { count: number; message: string }>();
  const provider: Provider = async (request) => {
    const count = (calls.get(request.registryHost) ?? 0) + 1;
    calls.set(request.registryHost, count);
    const failure = failures.get(request.registryHost);
    if (failure && failure.count > 0) {
      failure.count -= 1;
      // Like a provider wrapping its SDK's error: the cause says the network failed, so it may pass.
      throw new ProviderError(failure.message, { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
    }
    return {
      username: options.username ?? 'AWS',
      secret: `token-${request.registryHost}-${count}`,
      expiresAt: options.lifetimeMs === undefined ? undefined : new Date(request.now() + options.lifetimeMs),
    };
  };
  return {
    calls,
    total: () => [...calls.values()].reduce((sum, n) => sum + n, 0),
    failNext(host, count, message = `${host} is unreachable`) {
      failures.set(host, { count, message });
    },
    module: options.identity ? { provider, identity: options.identity } : { provider },
  };
}

/** A registration table whose every provider is `cloud` (or the one given per name). */
export function fakeProviderTable(
  cloud: FakeCloud,
  overrides: Partial<Record<ProviderName, FakeCloud>> = {},
): Record<ProviderName, ProviderLoader> {
  const load =
    (name: ProviderName): ProviderLoader =>
    async () =>
      (overrides[name] ?? cloud).module;
  return { ecr: load('ecr'), 'ecr-public': load('ecr-public'), google: load('google'), azure: load('azure'), static: load('static') };
}
