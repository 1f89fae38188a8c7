#!/usr/bin/env node
/**
 * @module
 * The generator images' entry: `berth-generate OUTPUT_PATH`. Everything else comes from environment
 * variables (see generators/env.ts). Resolves the registries, writes the file (mode 0600, atomic)
 * and exits 0 only when it was written. Progress and errors go to stderr, one line each, no secret.
 */
import { join } from 'node:path';
import { openCredentialCache, CACHE_KEY_FILE_NAME } from '../core/resolve/cache.js';
import { UsageError } from '../core/errors.js';
import { messages } from '../core/io/messages.js';
import { generateDockercfg, describeResolved } from '../core/dockercfg/generate.js';
import { detectProvider } from '../core/providers/index.js';
import type { ResolveContext } from '../core/resolve/resolve.js';
import { planFromEnv } from './env.js';

async function serve(args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void, warn: (line: string) => void): Promise<number> {
  if (args.length !== 1 || !args[0] || args[0].startsWith('-')) {
    throw new UsageError('expected one argument: the path to write', {
      hint: 'usage: berth-generate OUTPUT_PATH (settings come from environment variables)',
      exitCode: 2,
    });
  }
  const output = args[0];
  const plan = planFromEnv(env, detectProvider);
  const now = () => Date.now();
  const ctx: ResolveContext = { env, config: { registries: plan.registries }, now, onProgress: log, warn };
  if (plan.cacheDir) {
    ctx.cache = openCredentialCache({ dir: plan.cacheDir, keyPath: join(plan.cacheDir, CACHE_KEY_FILE_NAME), now, warn });
  }
  const result = await generateDockercfg(plan.registries, { output, ...plan }, ctx);
  for (const resolved of result.resolved) log(describeResolved(resolved, now()));
  log(`wrote ${output} (${plan.format})`);
  return 0;
}

// The AWS SDK's warning about Node versions it will drop would be one more stderr line per run.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const say = messages(process.stderr, process.env);
try {
  process.exitCode = await serve(process.argv.slice(2), process.env, say.info, say.warning);
} catch (err) {
  process.exitCode = say.error(err);
}
