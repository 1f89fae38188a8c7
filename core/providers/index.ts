/**
 * @module
 * The registration table: provider name → lazy loader, one line per cloud. A cloud's SDK is
 * imported only when a registry that uses it is resolved, so the helper's `get` for a stored
 * registry never pays for it. Adding a cloud is one file in this folder and one line here.
 */
import type { ProviderName } from '../config/load.js';
import type { Provider, ProviderRequest } from './provider.js';

/** What a provider file offers: the provider, and optionally who its credentials are for. */
export interface ProviderModule {
  provider: Provider;
  /**
   * The identity the credential belongs to (account, role, service account), used with the registry
   * to key cached tokens. Never a secret and never an access key id: keys rotate, identities do not.
   */
  identity?: (request: ProviderRequest) => string | Promise<string>;
  /**
   * Without `identity`: the environment variables that choose who the credential is for (a key
   * file, a client id). Their values are hashed into the cache key with the registry's options, so
   * two service accounts sharing a cache never get each other's token.
   */
  identityEnv?: readonly string[];
}

export type ProviderLoader = () => Promise<ProviderModule>;

export const PROVIDERS: Readonly<Record<ProviderName, ProviderLoader>> = {
  ecr: () => import('./ecr.js').then((m) => ({ provider: m.provider, identity: m.identity })),
  'ecr-public': () => import('./ecr-public.js').then((m) => ({ provider: m.provider, identity: m.identity })),
  google: () =>
    import('./google.js').then((m) => ({
      provider: m.googleProvider,
      identityEnv: ['GOOGLE_AUTH_JSON', 'GOOGLE_APPLICATION_CREDENTIALS'],
    })),
  azure: () => import('./azure.js').then((m) => ({ provider: m.azureProvider, identityEnv: ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'] })),
  static: () => import('./static.js').then((m) => ({ provider: m.staticProvider })),
};

/** The cloud whose registry a server URL names, from its host alone; undefined for any other host. */
export { detectProvider } from './hosts.js';
