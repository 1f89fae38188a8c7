/**
 * @module
 * The Provider contract: a plain async function from a registry to a credential with its expiry,
 * one file per cloud, registered in ./index.ts. Caching, retries, fallbacks and refresh wrap
 * providers (core/resolve) and are never written into them.
 */
import type { Credential } from '../credential.js';
import { ProviderError } from '../errors.js';
import type { Env } from '../paths.js';
import { type CloudProviderName, foreignHostReason } from './hosts.js';

export type { Credential } from '../credential.js';

export interface ProviderRequest {
  /** The registry's `host[:port]`, lower case, no scheme or path. */
  registryHost: string;
  /** Provider-specific settings from the registry's configuration (profile, role, key file…). */
  options: Readonly<Record<string, string | number | boolean>>;
  env: Env;
  /** Milliseconds since the epoch; injected so tests control time. */
  now: () => number;
  signal?: AbortSignal;
  /**
   * A Kubernetes service account the credential is for (the kubelet's service-account-token mode):
   * its token is the web identity a cloud provider exchanges (AWS AssumeRoleWithWebIdentity, Google
   * workload identity federation, an Azure federated credential), its annotations may name the role.
   */
  serviceAccount?: ServiceAccountIdentity;
}

export interface ServiceAccountIdentity {
  token: string;
  annotations: Readonly<Record<string, string>>;
}

/**
 * A provider's error names what failed (a variable, a file, the cloud's own error code) but not the
 * registry: whoever asked names it once (`no credentials for H: …`).
 */
export type Provider = (request: ProviderRequest) => Promise<Credential>;

/** What a provider file offers (its default export): the provider, and who its credentials are for. */
/** One option a provider reads from a registry's `options`. */
export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  description: string;
  required?: boolean;
}

/** What a provider declares in its registration: the hosts it serves (in words) and its options. */
export interface ProviderSpec {
  /** The hosts it serves, for the help (./hosts.ts decides). */
  hosts: string;
  options: readonly OptionSpec[];
}

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

/** Raised by a provider asked for a registry it does not serve (an ECR provider for a non-ECR host). */
export class NotMyRegistryError extends Error {
  override name = 'NotMyRegistryError';
  readonly hint: string | undefined;
  constructor(message: string, { hint }: { hint?: string | undefined } = {}) {
    super(message);
    this.hint = hint;
  }
}

/** Throws when `provider`'s token must not go to the request's host (see foreignHostReason). */
export function refuseForeignHost(provider: CloudProviderName, request: ProviderRequest): void {
  const reason = foreignHostReason(provider, request.registryHost, request.options);
  if (reason) throw new NotMyRegistryError(reason.message, { hint: reason.hint });
}

/**
 * The environment holds no identity for this cloud at all (no keys, profile, metadata server): for a
 * registry berth was never configured for, that is an anonymous pull, and the helper stays quiet.
 */
export class NoIdentityError extends ProviderError {
  override name = 'NoIdentityError';
}
