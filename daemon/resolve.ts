/**
 * @module
 * How the daemon turns a registry host into a credential when none is injected: core/resolve picks
 * the registry configuration (configured, else the cloud the host belongs to) and calls its
 * provider; a host it has nothing for is read from the active store. Providers are imported only
 * when first used, so a daemon serving ECR never loads the Google or Azure SDKs.
 */
import type { Config } from '../core/config/load.js';
import { NotFoundError } from '../core/errors.js';
import type { Env } from '../core/paths.js';
import type { ResolveCredential } from '../core/resolve/refresh.js';
import { isAnonymousPull } from '../core/resolve/context.js';
import { resolveServerURL, type ResolveContext } from '../core/resolve/resolve.js';

export function configuredResolver(env: Env, config: Config, now: () => number): ResolveCredential {
  // The token cache retries with backoff and stands in the fallback registry only when nothing valid
  // is left, so core/resolve does neither here: a refresh is one provider call.
  const ctx: ResolveContext = { env, config, now, followFallbacks: false, retry: { retries: 0, minTimeoutMs: 0, maxTimeoutMs: 0 } };
  return async (registryHost) => {
    let resolved;
    try {
      resolved = await resolveServerURL(registryHost, ctx);
    } catch (err) {
      // An anonymous pull of a public image: "not found", as the helper would say, not a failure to show.
      if (isAnonymousPull(registryHost, config, err)) throw new NotFoundError({ cause: err });
      throw err;
    }
    return resolved ? resolved.credential : fromStore(env, registryHost);
  };
}

async function fromStore(env: Env, registryHost: string) {
  const { openActiveStore } = await import('../core/store/index.js');
  const found = await (await openActiveStore(env)).get(registryHost);
  if (!found) throw new NotFoundError();
  return { username: found.username, secret: found.secret };
}
