/**
 * @module
 * How the daemon turns a registry host into a credential when none is injected: the configured
 * registry with that host (its provider and options), else the cloud the host belongs to (ECR, ECR
 * Public, Google, Azure), else the active store. Each provider is imported only when first used, so
 * a daemon serving ECR never loads the Google or Azure SDKs. Fallbacks are left to the token cache,
 * which uses them only when nothing valid is left.
 */
import type { ProviderName, RegistryConfig } from '../core/config.js';
import { NotFoundError } from '../core/errors.js';
import type { Env } from '../core/paths.js';
import { detectProvider } from '../core/providers/hosts.js';
import type { Provider } from '../core/providers/provider.js';
import type { ResolveCredential } from '../core/refresh.js';
import { registryKey } from '../core/registry-host.js';

const PROVIDERS: Record<ProviderName, () => Promise<Provider>> = {
  ecr: async () => (await import('../core/providers/ecr.js')).ecrProvider,
  'ecr-public': async () => (await import('../core/providers/ecr-public.js')).ecrPublicProvider,
  google: async () => (await import('../core/providers/google.js')).googleProvider,
  azure: async () => (await import('../core/providers/azure.js')).azureProvider,
  static: async () => (await import('../core/providers/static.js')).staticProvider,
};

export function configuredResolver(env: Env, registries: readonly RegistryConfig[], now: () => number): ResolveCredential {
  // The first configuration of a host wins; repository prefixes do not reach a credential helper.
  const byHost = new Map<string, RegistryConfig>();
  for (const registry of registries) if (!byHost.has(registryKey(registry.host))) byHost.set(registryKey(registry.host), registry);
  return async (registryHost) => {
    const registry = byHost.get(registryHost);
    const providerName = registry?.provider ?? detectProvider(registryHost);
    if (providerName === undefined) return fromStore(env, registryHost);
    const provider = await PROVIDERS[providerName]();
    return provider({ registryHost, options: registry?.options ?? {}, env, now });
  };
}

async function fromStore(env: Env, registryHost: string) {
  const { openActiveStore } = await import('../core/active-store.js');
  const found = await (await openActiveStore(env)).get(registryHost);
  if (!found) throw new NotFoundError();
  return { username: found.username, secret: found.secret };
}
