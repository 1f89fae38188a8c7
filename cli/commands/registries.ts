/**
 * @module
 * `berth registries list|add|remove|test`: the named registry configurations in berth's config
 * file. add/remove edit the file in place, keeping every other field; test resolves a registry and
 * reports who it got a token for and until when, never the token.
 */
import type { Command } from 'commander';
import type { Verdict } from '../../core/clients/verify-login.js';
import type { RegistryConfig } from '../../core/config/load.js';
import { PROVIDER_NAMES, type ProviderName } from '../../core/providers/index.js';
import { checkHost, checkOptions, describeProviders } from '../../core/providers/options.js';
import { ArgumentError, oneLine } from '../../core/errors.js';
import { say, warn, type CliContext } from '../run.js';

interface AddFlags {
  provider: ProviderName;
  host: string;
  option?: string[];
  prefix?: string;
  default?: boolean;
  fallback?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** `key=value`, as text; the provider's declarations (core/providers/options.ts) give it a type. */
export function parseOption(text: string): [string, string] {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new ArgumentError(`--option ${text}: expected KEY=VALUE`, { hint: 'e.g. --option profile=prod' });
  return [text.slice(0, equals), text.slice(equals + 1)];
}

export function registerRegistriesCommands(program: Command, ctx: CliContext): void {
  const registries = program
    .command('registries')
    .description('manage the named registry configurations (cloud providers and static credentials)')
    .addHelpText('after', '\nExample:\n  berth registries add prod --provider ecr --host 123456789012.dkr.ecr.us-east-1.amazonaws.com\n');
  registerList(registries, ctx);
  registerAdd(registries, ctx);
  registerRemove(registries, ctx);
  registerTest(registries, ctx);
}

function registerList(registries: Command, ctx: CliContext): void {
  registries
    .command('list')
    .description('list configured registries (option names only, never their values)')
    .option('--json', 'print a JSON array of {name, provider, host, prefix, default, fallback, options} (option names only)')
    .addHelpText('after', '\nExamples:\n  berth registries list\n  berth registries list --json\n')
    .action(async (flags: { json?: boolean }) => {
      const { loadConfig } = await import('../../core/config/load.js');
      const { path, config, problems } = await loadConfig(ctx.env);
      for (const problem of problems) warn(ctx, problem);
      const entries = config.registries ?? [];
      if (flags.json) {
        const rows = entries.map((registry) => ({ ...registry, options: Object.keys(registry.options ?? {}) }));
        ctx.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return;
      }
      if (entries.length === 0) {
        ctx.stdout.write(`no registries configured in ${path}\n`);
        return;
      }
      const rows = [['NAME', 'PROVIDER', 'HOST', 'DETAILS'], ...entries.map(describeRow)];
      const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]!.length)));
      for (const row of rows) {
        ctx.stdout.write(
          `${row
            .map((cell, column) => (column < 3 ? cell.padEnd(widths[column]!) : cell))
            .join('  ')
            .trimEnd()}\n`,
        );
      }
    });
}

function registerAdd(registries: Command, ctx: CliContext): void {
  registries
    .command('add')
    .description('add a registry configuration to the berth config file')
    .argument('<name>', 'a unique name (letters, digits, ".", "_", "-")')
    .requiredOption('--provider <provider>', `one of ${PROVIDER_NAMES.join(', ')}`)
    .requiredOption('--host <host>', 'the registry host as clients name it')
    .option('-o, --option <key=value>', "a provider setting (repeatable; the provider's options are listed below)", collect)
    .option('--prefix <repository>', 'use this entry only for images under this repository prefix')
    .option('--default', 'the entry used for its host when a request does not say which')
    .option('--fallback <name>', 'the registry whose credentials stand in when this provider keeps failing')
    .addHelpText(
      'after',
      () =>
        `\nProviders, the hosts they serve and their options (secrets never go in the config file:\n` +
        `name the variable or file that holds them):\n${describeProviders()}\n\n` +
        'Examples:\n  berth registries add prod --provider ecr --host 123456789012.dkr.ecr.eu-west-1.amazonaws.com -o profile=prod\n' +
        '  berth registries add images --provider google --host europe-west1-docker.pkg.dev\n' +
        '  berth registries add hub --provider static --host docker.io -o usernameEnv=HUB_USER -o passwordEnv=HUB_TOKEN\n' +
        '  berth registries add mirror --provider google --host gcr-proxy.corp.example -o allowAnyHost=true\n' +
        "\nA cloud provider serves only its own hosts. allowAnyHost=true (google, azure) sends this cloud's token to\n" +
        'that host: only for a proxy in front of the real registry.\n',
    )
    .action(async (name: string, flags: AddFlags) => {
      if (!(PROVIDER_NAMES as readonly string[]).includes(flags.provider)) {
        throw new ArgumentError(`unknown provider "${flags.provider}"`, { hint: `use one of: ${PROVIDER_NAMES.join(', ')}` });
      }
      const raw = (flags.option ?? []).map(parseOption);
      checkHost(flags.provider, flags.host, Object.fromEntries(raw));
      const options = checkOptions(flags.provider, raw);
      const registry: RegistryConfig = { name, provider: flags.provider, host: flags.host };
      if (Object.keys(options).length > 0) registry.options = options;
      if (flags.prefix !== undefined) registry.prefix = flags.prefix;
      if (flags.default) registry.default = true;
      if (flags.fallback !== undefined) registry.fallback = flags.fallback;
      const { addRegistry } = await import('../../core/config/edit.js');
      const path = await addRegistry(ctx.env, registry);
      ctx.stdout.write(`added registry ${name} (${flags.provider}, ${flags.host}) to ${path}\n`);
      await reloadRunningDaemon(ctx);
    });
}

function registerRemove(registries: Command, ctx: CliContext): void {
  registries
    .command('remove')
    .description('remove a registry configuration from the berth config file')
    .argument('<name>', 'the registry name')
    .addHelpText('after', '\nExample:\n  berth registries remove prod\n')
    .action(async (name: string) => {
      const { removeRegistry } = await import('../../core/config/edit.js');
      const path = await removeRegistry(ctx.env, name);
      ctx.stdout.write(`removed registry ${name} from ${path}\n`);
      await reloadRunningDaemon(ctx);
    });
}

function registerTest(registries: Command, ctx: CliContext): void {
  registries
    .command('test')
    .description("ask a registry's provider for a token now and report its user and expiry (never the token)")
    .argument('<name>', 'a configured registry name, or a cloud registry host')
    .option('--json', 'print {name, host, username, provider, expiresAt, verified} as JSON')
    .option('-q, --quiet', 'print nothing on success')
    .addHelpText(
      'after',
      '\nA static registry is also asked whether the credentials work (GET /v2/, as docker login does).\n\n' +
        'Examples:\n  berth registries test prod\n  berth registries test hub --json\n',
    )
    .action(async (name: string, flags: { json?: boolean; quiet?: boolean }) => {
      const { resolveContextFor } = await import('../../core/resolve/context.js');
      const { selectRegistries, describeResolved } = await import('../../core/dockercfg/generate.js');
      const { resolveRegistry } = await import('../../core/resolve/resolve.js');
      const { info, warning } = say(ctx);
      const resolveCtx = await resolveContextFor(ctx.env, {}, warning);
      delete resolveCtx.cache; // a test asks the provider, not yesterday's answer
      if (!flags.json && !flags.quiet) resolveCtx.onProgress = info;
      const [registry] = selectRegistries(resolveCtx.config, [name]);
      const resolved = await resolveRegistry(registry!, resolveCtx);
      let verified: Verdict | undefined;
      if (resolved.from.provider === 'static') {
        const { verifyLogin } = await import('../../core/clients/verify-login.js');
        verified = await verifyLogin(resolved.from.host, resolved.credential.username, resolved.credential.secret, { env: ctx.env });
      }
      if (flags.json) {
        const { credential } = resolved;
        const row = {
          name: resolved.registry.name,
          host: resolved.registry.host,
          username: credential.username,
          provider: resolved.from.provider,
          expiresAt: credential.expiresAt?.toISOString() ?? null,
          verified: verified?.result ?? null,
          ...(verified && verified.result === 'unreachable' ? { notVerifiedBecause: verified.reason } : {}),
        };
        ctx.stdout.write(`${JSON.stringify(row)}\n`);
      } else if (!flags.quiet) {
        ctx.stdout.write(`ok  ${describeResolved(resolved, resolveCtx.now())}${verified ? `; ${describeVerdict(verified)}` : ''}\n`);
      }
    });
}

function describeVerdict(verdict: Verdict): string {
  if (verdict.result === 'unreachable') return `not verified (${verdict.reason})`;
  return verdict.result === 'ok' ? `verified at ${verdict.url}` : `${verdict.url} asks no credentials`;
}

/** A running daemon serves the new configuration at once; one that cannot be asked is named. */
async function reloadRunningDaemon(ctx: CliContext): Promise<void> {
  const { reloadDaemon } = await import('./daemon.js');
  try {
    if ((await reloadDaemon(ctx)) !== undefined) ctx.stdout.write('reloaded the running berth daemon\n');
  } catch (err) {
    warn(ctx, `the running berth daemon did not reload (${oneLine(err)}); run: berth daemon reload`);
  }
}

function describeRow(registry: RegistryConfig): string[] {
  const details = [
    registry.prefix !== undefined ? `prefix=${registry.prefix}` : '',
    registry.default ? 'default' : '',
    registry.fallback !== undefined ? `fallback=${registry.fallback}` : '',
    registry.options ? `options: ${Object.keys(registry.options).join(', ')}` : '',
  ].filter(Boolean);
  return [registry.name, registry.provider, registry.host, details.join('; ')];
}
