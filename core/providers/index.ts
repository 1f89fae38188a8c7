/**
 * @module
 * The registration table: provider name → lazy loader, one line per cloud. A cloud's SDK is
 * imported only when a registry that uses it is resolved, so the helper's `get` for a stored
 * registry never pays for it. Adding a cloud is one file in this folder and one line here.
 */
import type { ProviderName } from '../config.js';
import { ProviderError } from '../errors.js';
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

function notBuiltIn(name: ProviderName): ProviderLoader {
  return async () => {
    throw new ProviderError(`the ${name} provider is not part of this build`);
  };
}

export const PROVIDERS: Readonly<Record<ProviderName, ProviderLoader>> = {
  ecr: notBuiltIn('ecr'),
  'ecr-public': notBuiltIn('ecr-public'),
  google: notBuiltIn('google'),
  azure: notBuiltIn('azure'),
  static: notBuiltIn('static'),
};

/** The cloud whose registry a server URL names, from its host alone; undefined for any other host. */
export function detectProvider(_serverURL: string): ProviderName | undefined {
  return undefined;
}
