/**
 * @module
 * `berth kubelet-credential-provider`'s work: one request in, one response out, resolved the way
 * the helper's `get` resolves (a stored login, then the daemon when one answers, else configured
 * registries and cloud hosts directly, with the disk cache). With a service account token in the
 * request, a cloud registry's credential is minted for that service account instead: no store, no
 * daemon, no disk cache (the kubelet caches it per service account).
 */
import type { Env } from '../paths.js';
import { isCloudProvider } from '../providers/hosts.js';
import type { ServiceAccountIdentity } from '../providers/provider.js';
import { registryKey } from '../registry-host.js';
import { resolveContextFor } from '../resolve/context.js';
import { daemonFirst } from '../resolve/daemon-first.js';
import { pickRegistry, resolveRegistry, resolveServerURL, trimSlashes } from '../resolve/resolve.js';
import type { RegistryConfig } from '../config/load.js';
import {
  buildResponse,
  imageRegistryHost,
  imageRepository,
  parseRequest,
  type CredentialProviderResponse,
  type Found,
} from './credential-provider.js';

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
  // The repository path picks among registries that split the host by prefix.
  const serverURL = imageRepository(request.image);
  const serviceAccount: ServiceAccountIdentity | undefined =
    request.serviceAccountToken === undefined
      ? undefined
      : { token: request.serviceAccountToken, annotations: request.serviceAccountAnnotations ?? {} };
  const found =
    (serviceAccount && (await forServiceAccount(host, serverURL, serviceAccount, options))) || (await asHelper(host, serverURL, options));
  return buildResponse(request, found, now());
}

/** A cloud registry's credential for the pod's service account; undefined for any other registry. */
async function forServiceAccount(
  host: string,
  serverURL: string,
  serviceAccount: ServiceAccountIdentity,
  options: KubeletOptions,
): Promise<Found | undefined> {
  const ctx = await resolveContextFor(options.env, {}, options.warn);
  const registry = pickRegistry(serverURL, ctx.config, ctx.detect);
  if (!registry || !isCloudProvider(registry.provider)) return undefined;
  const resolved = await resolveRegistry(registry, { ...ctx, serviceAccount }); // resolve keeps it out of the cache
  return { ...resolved.credential, ...scopeOf(host, registry) };
}

async function asHelper(host: string, serverURL: string, options: KubeletOptions): Promise<Found | undefined> {
  const stored = await storedLogin(host, options);
  if (stored) return stored;
  let scope: { scope?: string } = {};
  const found = await daemonFirst(options.env, {
    warn: options.warn,
    direct: async (url) => {
      const resolved = await resolveServerURL(url, await resolveContextFor(options.env, {}, options.warn));
      if (resolved) scope = scopeOf(host, resolved.registry);
      return resolved?.credential;
    },
  })(serverURL);
  return found && { ...found, ...scope };
}

/** `host/prefix` for a registry that serves one repository prefix of its host. */
function scopeOf(host: string, registry: RegistryConfig): { scope?: string } {
  const prefix = trimSlashes(registry.prefix ?? '');
  return prefix ? { scope: `${host}/${prefix}` } : {};
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
