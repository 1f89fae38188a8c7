/**
 * @module
 * The Provider contract: a plain async function from a registry to a credential with its expiry.
 * One file per cloud; `chain` composes them. Caching and refresh wrap providers and are never
 * written into them.
 */
import { AllFailedError } from '../errors.js';
import type { Env } from '../paths.js';
import { type CloudProviderName, foreignHostReason } from './hosts.js';

export interface Credential {
  username: string;
  secret: string;
  /** When the secret stops working; undefined for credentials that do not expire (static). */
  expiresAt?: Date;
}

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

export type Provider = (request: ProviderRequest) => Promise<Credential>;

/** Raised by a provider that does not handle a registry, so `chain` moves on to the next. */
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

/** Tries each provider in turn; the first credential wins. If all fail, every reason is kept. */
export function chain(...providers: Provider[]): Provider {
  return async (request) => {
    const reasons: Error[] = [];
    for (const provider of providers) {
      try {
        return await provider(request);
      } catch (err) {
        if (!(err instanceof Error)) throw err;
        reasons.push(err);
        if (!(err instanceof NotMyRegistryError)) break;
      }
    }
    throw new AllFailedError(`no credentials for ${request.registryHost}`, reasons);
  };
}
