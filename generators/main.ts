#!/usr/bin/env node
/**
 * @module
 * The generator images' entry: `berth-generate OUTPUT_PATH`. Everything else comes from environment
 * variables (see generators/env.ts). Resolves the registries, writes the file (mode 0600, atomic)
 * and exits 0 only when it was written. Progress and errors go to stderr, one line each, no secret.
 */
import { join } from '../core/io/path.js';
import { openCredentialCache, CACHE_KEY_FILE_NAME } from '../core/resolve/cache.js';
import { ArgumentError, UsageError } from '../core/errors.js';
import { messages } from '../core/io/messages.js';
import { detectProvider } from '../core/providers/index.js';
import type { RegistryConfig } from '../core/config/load.js';
import { OutputNotWritableError, generateDockercfg, describeResolved, type RegistryResolver } from '../core/dockercfg/generate.js';
import { resolveRegistry, type ResolveContext } from '../core/resolve/resolve.js';
import { planFromEnv, type GeneratorPlan } from './env.js';

async function serve(args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void, warn: (line: string) => void): Promise<number> {
  if (args.length !== 1 || !args[0] || (args[0].startsWith('-') && args[0] !== '-')) {
    throw new ArgumentError('expected one argument: the path to write, or - for stdout', {
      hint: 'usage: berth-generate OUTPUT_PATH|- (settings come from environment variables)',
    });
  }
  const output = args[0];
  const plan = planFromEnv(env, detectProvider);
  const now = () => Date.now();
  const ctx: ResolveContext = { env, config: { registries: plan.registries }, now, onProgress: log, warn };
  if (plan.cacheDir) {
    ctx.cache = openCredentialCache({ dir: plan.cacheDir, keyPath: join(plan.cacheDir, CACHE_KEY_FILE_NAME), now, warn });
  }
  const { registries, resolve } = await withOwnEcrRegistry(plan, ctx);
  const result = await generateDockercfg(registries, { output, ...plan, stdout: process.stdout }, ctx, resolve);
  for (const resolved of result.resolved) log(describeResolved(resolved, now()));
  log(`wrote ${output === '-' ? 'stdout' : output} (${plan.format})`);
  return 0;
}

/**
 * The error as the generator reports it. The image runs as uid 65532 and a mount made by `docker run
 * -v` belongs to whoever made the directory, so an unwritable output gets the container's fix.
 */
function forContainer(err: unknown): unknown {
  if (!(err instanceof OutputNotWritableError)) return err;
  const owner = err.ownerUid === undefined ? '' : ` (or --user ${err.ownerUid}, the mount's owner)`;
  return new OutputNotWritableError(err.directory, err.ownerUid, {
    cause: err.cause,
    hint: `run the container with --user $(id -u)${owner}, or make ${err.directory} writable by uid 65532`,
  });
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
  ctx.onProgress?.(`the caller's own registry in ${plan.discoverEcrIn} is ${own.registryHost}`);
  return {
    registries: [...plan.registries, registry],
    resolve: async (wanted) =>
      wanted === registry ? { registry, from: registry, credential: own.credential } : resolveRegistry(wanted, ctx),
  };
}

// The AWS SDK's warning about Node versions it will drop would be one more stderr line per run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const say = messages(process.stderr, process.env);
// No top-level await: the standalone executable's bytecode needs CommonJS output.
serve(process.argv.slice(2), process.env, say.info, say.warning).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const code = say.error(forContainer(err));
    // Settings from the environment are the generator's command line: wrong ones are usage errors.
    process.exitCode = err instanceof UsageError ? 2 : code;
  },
);
