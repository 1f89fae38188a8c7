/**
 * @module
 * `berth configure` and `berth unconfigure`: point docker's config.json and containers/image's
 * auth.json at docker-credential-berth, or stop doing so. `--dry-run` shows the diff of each file
 * and writes nothing.
 */
import type { Command } from 'commander';
import type { ClientName, FileChange } from '../../core/clients/config-files.js';
import { ArgumentError } from '../../core/errors.js';
import { registryKey } from '../../core/registry-host.js';
import { warn, type CliContext } from '../run.js';

interface ClientOptions {
  dockerOnly?: boolean;
  containersOnly?: boolean;
  dryRun?: boolean;
}

interface ConfigureOptions extends ClientOptions {
  registry?: string[];
  migrate?: boolean;
  /** false with --no-import: replace another credsStore without importing its entries. */
  import: boolean;
}

const READERS = { docker: 'docker, docker-py, buildx', containers: 'skopeo, podman, buildah' } as const;

const CONFIGURE_HELP = `
berth writes "credsStore": "berth" to docker's config.json, and one "credHelpers" entry per registry
it knows (logged in to, or named in berth's config file) to containers/image's auth.json, which has no
catch-all helper. Every other field of both files is kept. A later \`berth login\` or \`docker login\`
adds its registry too. For every other registry, a registries.conf drop-in
(~/.config/containers/registries.conf.d/50-berth.conf) makes podman, buildah and skopeo ask berth
first and store their logins there.

Examples:
  berth configure
  berth configure --dry-run
  berth configure --registry ghcr.io --registry 123456789012.dkr.ecr.eu-west-1.amazonaws.com
  berth configure --containers-only
  berth configure --migrate --dry-run

With "credsStore" naming another helper (pass, secretservice…), berth imports that helper's entries
first and remembers it; \`berth unconfigure\` puts it back. --migrate also moves every plaintext login
in config.json, both containers auth.json files and ~/.dockercfg into berth's store.
`;

function clientsFrom(options: ClientOptions): readonly ClientName[] {
  if (options.dockerOnly && options.containersOnly) {
    throw new ArgumentError('--docker-only and --containers-only exclude each other');
  }
  if (options.dockerOnly) return ['docker'] as const;
  if (options.containersOnly) return ['containers'] as const;
  return ['docker', 'containers'] as const;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function registerConfigureCommands(program: Command, ctx: CliContext): void {
  program
    .command('configure')
    .description('make docker and containers tools use docker-credential-berth')
    .option('--docker-only', "only edit docker's config.json")
    .option('--containers-only', "only edit containers/image's auth.json")
    .option('--registry <host>', 'only these registries, as credHelpers entries (repeatable)', collect)
    .option('--dry-run', 'show what would change and write nothing')
    .option('--migrate', "first move every plaintext login in the client files into berth's store")
    .option('--no-import', "replace another helper's credsStore without importing its entries")
    .addHelpText('after', CONFIGURE_HELP)
    .action(async (options: ConfigureOptions) => {
      const lib = await import('../../core/clients/config-files.js');
      const switchIn = await import('./switch-in.js');
      const migration = options.migrate ? await switchIn.migrateStep(ctx, options.dryRun) : undefined;
      // Read (and refuse broken) files before anything else is written.
      const { files, diffBase } = await switchIn.readClientFiles(ctx, clientsFrom(options), migration);
      const perRegistry = options.registry !== undefined;
      const docker = files.find((file) => file.client === 'docker');
      const imported =
        docker && !perRegistry ? await switchIn.importReplacedStore(ctx, docker, { ...options, importEntries: options.import }) : [];
      const { knownRegistries } = await import('../../core/clients/known-registries.js');
      const known = await knownRegistries(ctx.env);
      for (const problem of known.problems) warn(ctx, problem);
      // A dry run stored nothing: count what it would have.
      const allKnown = [
        ...new Set([...known.registryKeys, ...imported, ...(migration?.moved.map((moved) => moved.registryKey) ?? [])]),
      ].sort();
      const registryKeys = perRegistry ? requestedKeys(options.registry!) : allKnown;
      if (options.import) await switchIn.importReplacedEntries(ctx, files, registryKeys, new Set(allKnown), options.dryRun);
      const { rememberReplaced } = await import('../../core/clients/replaced.js');
      for (const file of files) {
        const client = file.client;
        // docker's credsStore covers every registry; containers/image needs an entry for each.
        const keys = client === 'docker' && !perRegistry ? [] : registryKeys;
        const change = lib.planConfigure(file, { registryKeys: keys, credsStore: !perRegistry, known: allKnown });
        if (!options.dryRun && change.replaced) await rememberReplaced(ctx.env, file.path, change.replaced);
        await report(change, options.dryRun, ctx, 'configure', diffBase.get(file));
        if (client === 'containers' && registryKeys.length === 0) {
          // A later login adds itself here only when docker's credsStore says berth is wanted.
          const later = files.some((other) => other.client === 'docker') && !perRegistry;
          ctx.stdout.write(
            `  no registries known yet: ${later ? '`berth login` and `docker login` add each registry here' : 'run this again after `berth login`'}\n`,
          );
        }
      }
      if (files.some((file) => file.client === 'containers')) {
        // podman/buildah/skopeo login write to the primary auth file: send them to berth there too.
        if (!options.dryRun && registryKeys.length > 0) {
          const primary = await lib.configurePrimaryAuthFile(ctx.env, registryKeys);
          if (typeof primary === 'string') warn(ctx, primary);
          else if (primary && primary.changes.length > 0) {
            ctx.stdout.write(`${primary.file.path} (podman login, buildah login, skopeo login):\n`);
            for (const line of primary.changes) ctx.stdout.write(`  ${line}\n`);
            for (const line of primary.warnings) warn(ctx, line);
          }
        }
        for (const line of await lib.shadowedByPrimaryAuthFile(ctx.env, registryKeys)) warn(ctx, line);
        // and a login to a registry berth has not heard of yet: every registry, through registries.conf.d
        if (!perRegistry) await reportDropIn('configure', options.dryRun, ctx);
      }
      const { findOnPath, HELPER_PROGRAM } = await import('../../core/clients/doctor.js');
      if (!options.dryRun && !(await findOnPath(ctx.env, HELPER_PROGRAM))) {
        warn(ctx, `${HELPER_PROGRAM} is not on PATH: clients told to use berth fail until it is (see berth doctor)`);
      }
    });

  program
    .command('unconfigure')
    .description("remove berth's entries from docker's and containers/image's config files")
    .option('--docker-only', "only edit docker's config.json")
    .option('--containers-only', "only edit containers/image's auth.json")
    .option('--dry-run', 'show what would change and write nothing')
    .addHelpText(
      'after',
      '\nOnly entries naming berth are removed; a helper berth replaced (credsStore: pass) is put back; everything else stays.\n\nExample:\n  berth unconfigure --dry-run\n',
    )
    .action(async (options: ClientOptions) => {
      const lib = await import('../../core/clients/config-files.js');
      const { readReplaced, forgetReplaced } = await import('../../core/clients/replaced.js');
      const replaced = await readReplaced(ctx.env);
      for (const client of clientsFrom(options)) {
        const file = await lib.readClientFile(ctx.env, client);
        const change = lib.planUnconfigure(file, replaced[file.path]);
        await report(change, options.dryRun, ctx, 'unconfigure');
        const primary = client === 'containers' ? await lib.readPrimaryAuthFile(ctx.env).catch(() => undefined) : undefined;
        if (primary && lib.pointsAtBerth(primary)) await report(lib.planUnconfigure(primary), options.dryRun, ctx, 'unconfigure');
        if (client === 'containers') await reportDropIn('unconfigure', options.dryRun, ctx);
        if (options.dryRun) continue;
        await forgetReplaced(ctx.env, file.path);
        const restored = replaced[file.path]?.credsStore;
        if (restored && file.json.credsStore === lib.HELPER_NAME) {
          ctx.stdout.write(`  logins made through berth stay in its store; to copy them: berth export --to ${restored}\n`);
        }
      }
    });
}

function requestedKeys(requested: string[]): string[] {
  return requested.map((registry) => {
    const key = registryKey(registry);
    if (key === '')
      throw new ArgumentError(`--registry "${registry}" names no registry`, { hint: 'give a host, e.g. ghcr.io or localhost:5000' });
    return key;
  });
}

/** The registries.conf.d drop-in (core/clients/registries-conf.ts): planned, shown, written. */
async function reportDropIn(verb: 'configure' | 'unconfigure', dryRun: boolean | undefined, ctx: CliContext): Promise<void> {
  const { applyDropIn, planDropIn } = await import('../../core/clients/registries-conf.js');
  const change = await planDropIn(ctx.env, verb);
  if (verb === 'unconfigure' && change.before === undefined) return;
  ctx.stdout.write(`${change.path} (podman, buildah and skopeo, for every registry):\n`);
  if (change.changes.length === 0) ctx.stdout.write('  nothing to change\n');
  else if (dryRun) {
    const { unifiedDiff } = await import('../diff.js');
    const names = { before: change.before === undefined ? '/dev/null' : change.path, after: `${change.path} (after berth ${verb})` };
    ctx.stdout.write(unifiedDiff(change.before ?? '', change.after ?? '', names));
  } else {
    await applyDropIn(change);
    for (const line of change.changes) ctx.stdout.write(`  ${line}\n`);
  }
  for (const line of change.warnings) warn(ctx, line);
}

async function report(change: FileChange, dryRun: boolean | undefined, ctx: CliContext, verb: string, diffBase?: string): Promise<void> {
  const { file } = change;
  ctx.stdout.write(`${file.path} (${READERS[file.client]}):\n`);
  if (dryRun && diffBase !== undefined) {
    const { unifiedDiff } = await import('../diff.js');
    ctx.stdout.write(unifiedDiff(diffBase, change.after, { before: file.path, after: `${file.path} (after berth ${verb} --migrate)` }));
  } else if (change.changes.length === 0) {
    ctx.stdout.write(`  nothing to change\n`);
  } else if (dryRun) {
    const { unifiedDiff } = await import('../diff.js');
    const before = file.exists ? file.path : '/dev/null';
    ctx.stdout.write(unifiedDiff(file.text, change.after, { before, after: `${file.path} (after berth ${verb})` }));
  } else {
    const { applyChange } = await import('../../core/clients/config-files.js');
    await applyChange(change);
    for (const line of change.changes) ctx.stdout.write(`  ${line}\n`);
  }
  for (const line of change.warnings) warn(ctx, line);
}
