/**
 * @module
 * `berth generate OUTPUT`: resolve registries (configured, or cloud hosts named with --registry),
 * asking the running daemon first, and write a Docker config, legacy .dockercfg or Kubernetes pull
 * Secret, mode 0600, atomically.
 * Progress goes to stderr, never a secret; exit 0 only when the file was written.
 */
import { Option, type Command } from 'commander';
import { DOCKERCFG_FORMATS, DEFAULT_SECRET_NAME, type DockercfgFormat } from '../../core/dockercfg/formats.js';
import { say, type CliContext } from '../run.js';

interface GenerateFlags {
  format: DockercfgFormat;
  registry: string[];
  cacheDir?: string;
  cache: boolean;
  secretName?: string;
  namespace?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerGenerateCommand(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description('write a credentials file for registries: Docker config.json, .dockercfg or a Kubernetes Secret')
    .argument('<output>', 'the file to write (mode 0600, replaced atomically)')
    .addOption(new Option('-f, --format <format>', 'what to write').choices(DOCKERCFG_FORMATS).default('config'))
    .option(
      '-r, --registry <name>',
      'a configured registry name or a cloud registry host (repeatable; default: all configured)',
      collect,
      [],
    )
    .option('--cache-dir <dir>', 'keep tokens in this directory (its key is kept with it)')
    .option('--no-cache', 'always ask the providers (not the on-disk cache nor the daemon)')
    .option('--secret-name <name>', `the Secret's name for k8s formats (default ${DEFAULT_SECRET_NAME})`)
    .option('--namespace <namespace>', "the Secret's namespace for k8s formats")
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  berth generate ci-docker/config.json --registry 123456789012.dkr.ecr.us-east-1.amazonaws.com && docker --config ci-docker pull …',
        '  berth generate pull-secret.json --format k8s-secret --secret-name ecr-pull --namespace ci',
        '',
      ].join('\n'),
    )
    .action(async (output: string, flags: GenerateFlags) => {
      const { resolve } = await import('node:path');
      const { daemonFirstResolver, generateDockercfg, selectRegistries, describeResolved } = await import(
        '../../core/dockercfg/generate.js'
      );
      const { resolveContextFor } = await import('../../core/resolve/context.js');
      const { info: note, warning: warn } = say(ctx);
      const resolveCtx = await resolveContextFor(ctx.env, flags.cacheDir ? { cacheDir: resolve(ctx.cwd, flags.cacheDir) } : {}, warn);
      if (!flags.cache) delete resolveCtx.cache;
      resolveCtx.onProgress = note;
      const registries = selectRegistries(resolveCtx.config, flags.registry);
      const target = resolve(ctx.cwd, output);
      const result = await generateDockercfg(
        registries,
        { output: target, format: flags.format, secretName: flags.secretName, namespace: flags.namespace },
        resolveCtx,
        // --no-cache asks the providers themselves; the daemon is a cache too
        flags.cache ? daemonFirstResolver(resolveCtx, { warn, ...(ctx.programPath ? { programPath: ctx.programPath } : {}) }) : undefined,
      );
      for (const resolved of result.resolved) note(describeResolved(resolved, resolveCtx.now()));
      note(`wrote ${target} (${flags.format}, ${result.resolved.length} ${result.resolved.length === 1 ? 'registry' : 'registries'})`);
    });
}
