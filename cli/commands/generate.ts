/**
 * @module
 * `berth generate OUTPUT`: resolve registries (configured, or cloud hosts named with --registry),
 * asking the running daemon first, and write a Docker config, legacy .dockercfg or Kubernetes pull
 * Secret, mode 0600, atomically.
 * Progress goes to stderr, never a secret; exit 0 only when the file was written.
 */
import { Option, type Command } from 'commander';
import { DOCKERCFG_FORMATS, DEFAULT_SECRET_NAME, type DockercfgFormat } from '../../core/dockercfg/formats.js';
import type { Generated } from '../../core/dockercfg/generate.js';
import { say, type CliContext } from '../run.js';

interface GenerateFlags {
  format: DockercfgFormat;
  registry?: string[];
  cacheDir?: string;
  json?: boolean;
  quiet?: boolean;
  cache: boolean;
  secretName?: string;
  namespace?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerGenerateCommand(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description('write a credentials file for registries: Docker config.json, .dockercfg or a Kubernetes Secret')
    .argument('<output>', 'the file to write (mode 0600, replaced atomically), or - for stdout')
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
    .option('--json', 'print the summary as JSON (on stderr when the output is -); never a secret')
    .option('-q, --quiet', 'print nothing but errors')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  berth generate ci-docker/config.json --registry 123456789012.dkr.ecr.us-east-1.amazonaws.com && docker --config ci-docker pull …',
        '  berth generate pull-secret.json --format k8s-secret --secret-name ecr-pull --namespace ci',
        '  berth generate - --format k8s-secret | kubectl apply -f -',
        '',
      ].join('\n'),
    )
    .action(async (output: string, flags: GenerateFlags) => {
      const { resolve } = await import('../../core/io/path.js');
      const { daemonFirstResolver, generateDockercfg, selectRegistries, describeResolved } = await import(
        '../../core/dockercfg/generate.js'
      );
      const { resolveContextFor } = await import('../../core/resolve/context.js');
      const { info, warning: warn } = say(ctx);
      const note = (line: string) => {
        if (!flags.quiet && !flags.json) info(line);
      };
      const resolveCtx = await resolveContextFor(ctx.env, flags.cacheDir ? { cacheDir: resolve(ctx.cwd, flags.cacheDir) } : {}, warn);
      if (!flags.cache) delete resolveCtx.cache;
      resolveCtx.onProgress = note;
      const registries = selectRegistries(resolveCtx.config, flags.registry ?? []);
      const target = output === '-' ? '-' : resolve(ctx.cwd, output);
      const result = await generateDockercfg(
        registries,
        { output: target, format: flags.format, secretName: flags.secretName, namespace: flags.namespace, stdout: ctx.stdout },
        resolveCtx,
        // --no-cache asks the providers themselves; the daemon is a cache too
        flags.cache ? daemonFirstResolver(resolveCtx, { warn, ...(ctx.programPath ? { programPath: ctx.programPath } : {}) }) : undefined,
      );
      if (flags.json) {
        // On stdout, unless stdout is the file itself (`berth generate - --json`).
        (target === '-' ? ctx.stderr : ctx.stdout).write(`${JSON.stringify(summaryJSON(target, flags.format, result.resolved))}\n`);
        return;
      }
      for (const resolved of result.resolved) note(describeResolved(resolved, resolveCtx.now()));
      const count = `${result.resolved.length} ${result.resolved.length === 1 ? 'registry' : 'registries'}`;
      note(`wrote ${target === '-' ? 'stdout' : target} (${flags.format}, ${count})`);
    });
}

function summaryJSON(output: string, format: DockercfgFormat, resolved: readonly Generated[]) {
  return {
    output: output === '-' ? 'stdout' : output,
    format,
    registries: resolved.map(({ registry, credential, from, viaDaemon }) => ({
      name: registry.name,
      host: registry.host,
      username: credential.username,
      via: viaDaemon ? 'daemon' : from.name,
      provider: from.provider,
      expiresAt: credential.expiresAt?.toISOString() ?? null,
    })),
  };
}
