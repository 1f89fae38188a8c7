/**
 * @module
 * `berth kubelet-credential-provider`'s work: one request in, one response out, resolved the way
 * the helper's `get` resolves (a stored login, then the daemon when one answers, else configured
 * registries and cloud hosts directly, with the disk cache). With a service account token in the
 * request, a cloud registry's credential is minted for that service account instead: no store, no
 * daemon, no disk cache (the kubelet caches it per service account).
 */
import type { Env } from '../paths.js';
import type { ServiceAccountIdentity } from '../providers/provider.js';
import { registryKey } from '../registry-host.js';
import { resolveContextFor } from '../resolve/context.js';
import { daemonFirst } from '../resolve/daemon-first.js';
import { pickRegistry, resolveRegistry, resolveServerURL } from '../resolve/resolve.js';
import { buildResponse, imageRegistryHost, parseRequest, type CredentialProviderResponse, type Found } from './credential-provider.js';

const CLOUD_PROVIDERS = new Set(['ecr', 'ecr-public', 'google', 'azure']);

export interface KubeletOptions {
  env: Env;
  /** Diagnostics for the kubelet's log (stderr); never a secret. */
  warn: (line: string) => void;
  now?: () => number;
}

export async function answerKubelet(text: string, options: KubeletOptions): Promise<CredentialProviderResponse> {
  const request = parseRequest(text);
  const now = options.now ?? Date.now;
  const host = imageRegistryHost(request.image);
  const serviceAccount: ServiceAccountIdentity | undefined =
    request.serviceAccountToken === undefined
      ? undefined
      : { token: request.serviceAccountToken, annotations: request.serviceAccountAnnotations ?? {} };
  const found = (serviceAccount && (await forServiceAccount(host, serviceAccount, options))) || (await asHelper(host, options));
  return buildResponse(request, found, now());
}

/** A cloud registry's credential for the pod's service account; undefined for any other registry. */
async function forServiceAccount(
  host: string,
  serviceAccount: ServiceAccountIdentity,
  options: KubeletOptions,
): Promise<Found | undefined> {
  const ctx = await resolveContextFor(options.env, {}, options.warn);
  const registry = pickRegistry(host, ctx.config, ctx.detect);
  if (!registry || !CLOUD_PROVIDERS.has(registry.provider)) return undefined;
  const resolved = await resolveRegistry(registry, { ...ctx, serviceAccount }); // resolve keeps it out of the cache
  return resolved.credential;
}

async function asHelper(host: string, options: KubeletOptions): Promise<Found | undefined> {
  const stored = await storedLogin(host, options);
  if (stored) return stored;
  return daemonFirst(options.env, {
    warn: options.warn,
    direct: async (serverURL) => {
      const resolved = await resolveServerURL(serverURL, await resolveContextFor(options.env, {}, options.warn));
      return resolved && { serverURL, ...resolved.credential };
    },
  })(host);
}

/** A login kept in the active store; a store that cannot be opened is noted and passed over. */
async function storedLogin(host: string, options: KubeletOptions): Promise<Found | undefined> {
  try {
    const { openActiveStore } = await import('../store/index.js');
    const store = await openActiveStore(options.env);
    return await store.get(registryKey(host));
  } catch (err) {
    options.warn(`the credential store could not be read (${(err as Error).message}); resolving ${host} by its provider`);
    return undefined;
  }
}
