/**
 * @module
 * `berth registries list|add|remove|test`: the named registry configurations in berth's config
 * file. add/remove edit the file in place, keeping every other field; test resolves a registry and
 * reports who it got a token for and until when, never the token.
 */
import type { Command } from 'commander';
import type { ProviderName, RegistryConfig } from '../../core/config/load.js';
import { PROVIDERS } from '../../core/providers/index.js';
import { UsageError } from '../../core/errors.js';
import type { CliContext } from '../run.js';

interface AddFlags {
  provider: ProviderName;
  host: string;
  option: string[];
  prefix?: string;
  default?: boolean;
  fallback?: string;
}

const collect = (value: string, previous: string[]) => [...previous, value];
const PROVIDER_NAMES = Object.keys(PROVIDERS);

/** `key=value`; `true`/`false` become booleans, everything else stays text (account ids keep their zeros). */
export function parseOption(text: string): [string, string | boolean] {
  const equals = text.indexOf('=');
  if (equals <= 0) throw new UsageError(`--option ${text}: expected KEY=VALUE`, { hint: 'e.g. --option profile=prod' });
  const value = text.slice(equals + 1);
  return [text.slice(0, equals), value === 'true' ? true : value === 'false' ? false : value];
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
    .addHelpText('after', '\nExample:\n  berth registries list\n')
    .action(async () => {
      const { loadConfig } = await import('../../core/config/load.js');
      const { path, config } = await loadConfig(ctx.env);
      const entries = config.registries ?? [];
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
    .option('-o, --option <key=value>', 'a provider setting (repeatable), e.g. profile=prod', collect, [])
    .option('--prefix <repository>', 'use this entry only for images under this repository prefix')
    .option('--default', 'the entry used for its host when a request does not say which')
    .option('--fallback <name>', 'the registry whose credentials stand in when this provider keeps failing')
    .addHelpText(
      'after',
      '\nExamples:\n  berth registries add prod --provider ecr --host 123456789012.dkr.ecr.eu-west-1.amazonaws.com -o profile=prod\n' +
        '  berth registries add images --provider google --host europe-west1-docker.pkg.dev\n' +
        '  berth registries add mirror --provider google --host gcr-proxy.corp.example -o allowAnyHost=true\n' +
        "\nA cloud provider serves only its own hosts. allowAnyHost=true (google, azure) sends this cloud's token to\n" +
        'that host: only for a proxy in front of the real registry.\n',
    )
    .action(async (name: string, flags: AddFlags) => {
      if (!(PROVIDER_NAMES as readonly string[]).includes(flags.provider)) {
        throw new UsageError(`unknown provider "${flags.provider}"`, { hint: `use one of: ${PROVIDER_NAMES.join(', ')}` });
      }
      const registry: RegistryConfig = { name, provider: flags.provider, host: flags.host };
      if (flags.option.length > 0) registry.options = Object.fromEntries(flags.option.map(parseOption));
      const { foreignHostReason, isCloudProvider } = await import('../../core/providers/hosts.js');
      const { registryHost } = await import('../../core/registry-host.js');
      const refused = isCloudProvider(flags.provider)
        ? foreignHostReason(flags.provider, registryHost(flags.host), registry.options)
        : undefined;
      if (refused) throw new UsageError(refused.message, refused.hint ? { hint: refused.hint } : {});
      if (flags.prefix !== undefined) registry.prefix = flags.prefix;
      if (flags.default) registry.default = true;
      if (flags.fallback !== undefined) registry.fallback = flags.fallback;
      const { addRegistry } = await import('../../core/config/edit.js');
      const path = await addRegistry(ctx.env, registry);
      ctx.stdout.write(`added registry ${name} (${flags.provider}, ${flags.host}) to ${path}\n`);
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
    });
}

function registerTest(registries: Command, ctx: CliContext): void {
  registries
    .command('test')
    .description("ask a registry's provider for a token now and report its user and expiry (never the token)")
    .argument('<name>', 'a configured registry name, or a cloud registry host')
    .addHelpText('after', '\nExample:\n  berth registries test prod\n')
    .action(async (name: string) => {
      const { resolveContextFor } = await import('../../core/resolve/context.js');
      const { selectRegistries, describeResolved } = await import('../../core/dockercfg/generate.js');
      const { resolveRegistry } = await import('../../core/resolve/resolve.js');
      const resolveCtx = await resolveContextFor(ctx.env, {}, (line) => ctx.stderr.write(`berth: warning: ${line}\n`));
      delete resolveCtx.cache; // a test asks the provider, not yesterday's answer
      resolveCtx.onProgress = (line) => ctx.stderr.write(`berth: ${line}\n`);
      const [registry] = selectRegistries(resolveCtx.config, [name]);
      const resolved = await resolveRegistry(registry!, resolveCtx);
      ctx.stdout.write(`ok  ${describeResolved(resolved, resolveCtx.now())}\n`);
    });
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
