/**
 * @module
 * The pull Secret's content from berth's registries, as `berth generate --format k8s-secret` builds
 * it (core/dockercfg): the registries chosen as generate chooses them, each resolved daemon first,
 * the Secret's type and data, and the earliest expiry among them.
 */
import { formatDockercfg } from '../dockercfg/formats.js';
import { daemonFirstResolver, selectRegistries } from '../dockercfg/generate.js';
import { AllFailedError, UsageError } from '../errors.js';
import type { Env } from '../paths.js';
import { registryKey } from '../registry-host.js';
import type { RegistryConfig } from '../config/load.js';
import { resolveContextFor } from '../resolve/context.js';
import { resolveRegistry } from '../resolve/resolve.js';
import type { PullSecretContent } from './reconcile.js';

export interface ContentOptions {
  env: Env;
  /** `--registry` names or cloud hosts; empty: every configured registry. */
  registries: readonly string[];
  secretName: string;
  warn: (line: string) => void;
  /**
   * Ask the daemon and the disk cache first (default). The long-running sync is a refresh-ahead
   * cache of its own and resolves fresh: a cached token would come back until the cache's own
   * margin, minutes before expiry, instead of when the sync means to refresh.
   */
  cached?: boolean;
}

export async function resolvePullSecretContent(options: ContentOptions): Promise<PullSecretContent> {
  const ctx = await resolveContextFor(options.env, {}, options.warn);
  const cached = options.cached !== false;
  if (!cached) delete ctx.cache;
  const registries = selectRegistries(ctx.config, options.registries, ctx.detect);
  const hosts = new Map<string, string>();
  for (const registry of registries) {
    const other = hosts.get(registryKey(registry.host));
    if (other !== undefined && other !== registry.name) {
      throw new UsageError(`registries "${other}" and "${registry.name}" both write ${registryKey(registry.host)}`, {
        hint: 'name one of them with --registry',
      });
    }
    hosts.set(registryKey(registry.host), registry.name);
  }
  const resolve = cached ? daemonFirstResolver(ctx, { warn: options.warn }) : (registry: RegistryConfig) => resolveRegistry(registry, ctx);
  const settled = await Promise.allSettled(registries.map((registry) => resolve(registry)));
  const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
  if (failures.length > 0) throw failures.length === 1 ? failures[0] : new AllFailedError('no pull secret content', failures);
  const resolved = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const entries = resolved.map(({ registry, credential }) => ({
    serverURL: registry.host,
    username: credential.username,
    secret: credential.secret,
  }));
  const manifest = JSON.parse(formatDockercfg(entries, 'k8s-secret', { secretName: options.secretName })) as PullSecretContent;
  const expiries = resolved.flatMap(({ credential }) => (credential.expiresAt ? [credential.expiresAt.getTime()] : []));
  return {
    type: manifest.type,
    data: manifest.data,
    ...(expiries.length > 0 ? { expiresAt: new Date(Math.min(...expiries)) } : {}),
  };
}
