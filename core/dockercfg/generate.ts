/**
 * @module
 * Writing a credentials file for a set of registries: choose them, resolve each through the cache
 * and providers (or ask the running daemon first), format, and replace the output atomically with
 * mode 0600. Nothing is written unless every registry resolved, so a file that exists is a file
 * that works.
 * Shared by `berth generate` and the generator images.
 */
import type { Config, RegistryConfig } from '../config/load.js';
import { daemonFirst, type DaemonFirstOptions } from '../resolve/daemon-first.js';
import { AllFailedError, BerthError, systemErrorText, UsageError } from '../errors.js';
import { formatDockercfg, type DockercfgFormat, type SecretOptions } from './formats.js';
import { writeFileAtomic } from '../io/atomic.js';
import { registryKey } from '../registry-host.js';
import { pickRegistry, resolveRegistry, type Resolved, type ResolveContext } from '../resolve/resolve.js';

export interface GenerateOptions extends SecretOptions {
  /** The file to write; `-` writes to `stdout` when one is given. */
  output: string;
  format: DockercfgFormat;
  stdout?: { write(text: string): unknown };
}

/** The output's directory does not let this process create a file in it (a mount owned by someone else). */
export class OutputNotWritableError extends BerthError {
  override name = 'OutputNotWritableError';
  constructor(
    readonly directory: string,
    readonly ownerUid: number | undefined,
    options: { cause?: unknown; hint?: string } = {},
  ) {
    const uid = typeof process.getuid === 'function' ? process.getuid() : undefined;
    const owner = ownerUid === undefined ? '' : `, owned by uid ${ownerUid}`;
    super(`cannot write to ${directory}: permission denied for uid ${uid ?? '?'}${owner}`, {
      cause: options.cause,
      hint: options.hint ?? `write somewhere uid ${uid ?? '?'} may, or run as the directory's owner`,
    });
  }
}

export interface GenerateResult {
  output: string;
  resolved: Generated[];
}

/**
 * The registries to write: those named (by configured name, or by host for a configured or
 * recognised cloud registry), else one per configured host.
 */
export function selectRegistries(config: Config, names: readonly string[], detect?: ResolveContext['detect']): RegistryConfig[] {
  const configured = config.registries ?? [];
  if (names.length === 0) {
    if (configured.length === 0) {
      throw new UsageError('no registries configured', {
        hint: 'add one with `berth registries add NAME --provider PROVIDER --host HOST`, or name a cloud registry host with --registry',
      });
    }
    const hosts = [...new Set(configured.map((registry) => registryKey(registry.host)))];
    return hosts.map((host) => pickRegistry(host, config, detect) as RegistryConfig);
  }
  return names.map((name) => {
    const registry = configured.find((candidate) => candidate.name === name) ?? pickRegistry(name, config, detect);
    if (!registry) {
      const known = configured.map((candidate) => candidate.name).join(', ') || 'none configured';
      throw new UsageError(`no registry named "${name}" and it is not a recognised cloud registry host`, {
        hint: `configured registries: ${known}`,
      });
    }
    return registry;
  });
}

function checkOneEntryPerHost(registries: readonly RegistryConfig[]): void {
  const byHost = new Map<string, string>();
  for (const registry of registries) {
    const key = registryKey(registry.host);
    const other = byHost.get(key);
    if (other !== undefined && other !== registry.name) {
      throw new UsageError(`registries "${other}" and "${registry.name}" both write ${key}; a file holds one entry per host`, {
        hint: 'name one of them with --registry',
      });
    }
    byHost.set(key, registry.name);
  }
}

/** How one registry's credential is found: resolved here, or asked of the daemon first. */
export type RegistryResolver = (registry: RegistryConfig) => Promise<Generated>;

/** A resolved registry; `viaDaemon` when the running daemon answered for it. */
export type Generated = Resolved & { viaDaemon?: boolean };

/**
 * Asks the running daemon for each registry, resolving here when it does not answer. The daemon
 * serves the configuration it picks for a host, so a registry it would not pick (one scoped to a
 * repository prefix, say) is always resolved here.
 */
export function daemonFirstResolver(ctx: ResolveContext, options: Omit<DaemonFirstOptions, 'direct'> = {}): RegistryResolver {
  return async (registry) => {
    const direct = () => resolveRegistry(registry, ctx);
    if (pickRegistry(registryKey(registry.host), ctx.config, ctx.detect)?.name !== registry.name) return direct();
    let resolvedHere: Resolved | undefined;
    const found = await daemonFirst(ctx.env, {
      ...options,
      direct: async () => {
        resolvedHere = await direct();
        return resolvedHere.credential;
      },
    })(registry.host);
    if (resolvedHere) return resolvedHere;
    if (!found) return direct(); // a daemon started with another configuration
    return { registry, from: registry, credential: found, viaDaemon: true };
  };
}

/** Resolves every registry, then writes the file; throws (writing nothing) if any registry failed. */
export async function generateDockercfg(
  registries: readonly RegistryConfig[],
  options: GenerateOptions,
  ctx: ResolveContext,
  resolve: RegistryResolver = (registry) => resolveRegistry(registry, ctx),
): Promise<GenerateResult> {
  checkOneEntryPerHost(registries);
  formatDockercfg([], options.format, options); // bad secret or namespace names fail before any cloud call
  if (options.output !== '-') await checkOutput(options.output);
  const unique = registries.filter((registry, index) => registries.findIndex((r) => r.name === registry.name) === index);
  const settled = await Promise.allSettled(unique.map((registry) => resolve(registry)));
  const failures = settled.flatMap((result) => (result.status === 'rejected' ? [result.reason as Error] : []));
  if (failures.length === 1) throw failures[0];
  if (failures.length > 1) throw new AllFailedError(`nothing written to ${options.output}`, failures);
  const resolved = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const entries = resolved.map(({ registry, credential }) => ({
    serverURL: registry.host,
    username: credential.username,
    secret: credential.secret,
  }));
  const text = formatDockercfg(entries, options.format, options);
  if (options.output === '-' && options.stdout) options.stdout.write(text);
  else await writeOutput(options.output, text);
  return { output: options.output, resolved };
}

/** An output that names a directory is refused before any provider is asked. */
async function checkOutput(output: string): Promise<void> {
  const { stat } = await import('node:fs/promises');
  const isDirectory =
    output.endsWith('/') ||
    (await stat(output).then(
      (info) => info.isDirectory(),
      () => false,
    ));
  if (isDirectory) throw new UsageError(`cannot write ${output}: it is a directory`, { hint: 'give the path of the file to write' });
}

async function writeOutput(output: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(output, text, { mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') {
      throw new BerthError(`cannot write ${output}: ${systemErrorText(err)}`, { cause: err });
    }
    const [{ stat }, { dirname }] = await Promise.all([import('node:fs/promises'), import('../io/path.js')]);
    const directory = dirname(output);
    const owner = await stat(directory).then(
      (info) => info.uid,
      () => undefined,
    );
    throw new OutputNotWritableError(directory, owner, { cause: err });
  }
}

/** One line per registry for a log: who and until when, never the secret. */
export function describeResolved({ registry, credential, from, viaDaemon }: Generated, now: number): string {
  const via = viaDaemon ? 'berth daemon' : from === registry ? registry.provider : `fallback ${from.name} (${from.provider})`;
  const expiry = credential.expiresAt ? `, expires ${describeExpiry(credential.expiresAt, now)}` : ', does not expire';
  return `${registry.name}: ${registryKey(registry.host)} as ${credential.username} via ${via}${expiry}`;
}

export function describeExpiry(expiresAt: Date, now: number): string {
  const minutes = Math.round((expiresAt.getTime() - now) / 60_000);
  const span = minutes >= 60 ? `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m` : `${minutes}m`;
  return `in ${span} (${expiresAt.toISOString()})`;
}
