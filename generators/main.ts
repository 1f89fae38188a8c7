#!/usr/bin/env node
/**
 * @module
 * The generator images' entry: `berth-generate OUTPUT_PATH`. Everything else comes from environment
 * variables (see generators/env.ts). Resolves the registries, writes the file (mode 0600, atomic)
 * and exits 0 only when it was written. Progress and errors go to stderr, one line each, no secret.
 */
import { join } from 'node:path';
import { openCredentialCache, CACHE_KEY_FILE_NAME } from '../core/resolve/cache.js';
import { oneLine } from '../core/errors.js';
import { detectProvider } from '../core/providers/index.js';
import type { RegistryConfig } from '../core/config/load.js';
import { generateDockercfg, describeResolved, type RegistryResolver } from '../core/dockercfg/generate.js';
import { resolveRegistry, type ResolveContext } from '../core/resolve/resolve.js';
import { planFromEnv, type GeneratorPlan } from './env.js';

const log = (line: string) => process.stderr.write(`berth-generate: ${line}\n`);

async function serve(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (args.length !== 1 || !args[0] || args[0].startsWith('-')) {
    log('usage: berth-generate OUTPUT_PATH (settings come from environment variables)');
    return 2;
  }
  const output = args[0];
  const plan = planFromEnv(env, detectProvider);
  const now = () => Date.now();
  const warn = (line: string) => log(`warning: ${line}`);
  const ctx: ResolveContext = { env, config: { registries: plan.registries }, now, onProgress: log, warn };
  if (plan.cacheDir) {
    ctx.cache = openCredentialCache({ dir: plan.cacheDir, keyPath: join(plan.cacheDir, CACHE_KEY_FILE_NAME), now, warn });
  }
  const { registries, resolve } = await withOwnEcrRegistry(plan, ctx);
  const result = await generateDockercfg(registries, { output, ...plan }, ctx, resolve);
  for (const resolved of result.resolved) log(describeResolved(resolved, now()));
  log(`wrote ${output} (${plan.format})`);
  return 0;
}

/** With only a region and keys: ask ECR which registry is the caller's, and write that one. */
async function withOwnEcrRegistry(
  plan: GeneratorPlan,
  ctx: ResolveContext,
): Promise<{ registries: RegistryConfig[]; resolve?: RegistryResolver }> {
  if (plan.discoverEcrIn === undefined) return { registries: plan.registries };
  const { ecrOwnRegistry } = await import('../core/providers/ecr.js');
  const own = await ecrOwnRegistry({ options: {}, env: ctx.env, now: ctx.now }, plan.discoverEcrIn);
  const registry: RegistryConfig = { name: own.registryHost, provider: 'ecr', host: own.registryHost };
  log(`the caller's own registry in ${plan.discoverEcrIn} is ${own.registryHost}`);
  return {
    registries: [...plan.registries, registry],
    resolve: async (wanted) =>
      wanted === registry ? { registry, from: registry, credential: own.credential } : resolveRegistry(wanted, ctx),
  };
}

// No top-level await: the standalone executable's bytecode needs CommonJS output.
serve(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    log(`error: ${oneLine(err)}`);
    process.exitCode = 1;
  },
);
