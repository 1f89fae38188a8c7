/**
 * @module
 * `berth login`, `berth logout`, `berth list`: the active store from the command line.
 */
import type { Command } from 'commander';
import { openActiveStore } from '../../core/store/index.js';
import { ArgumentError, UsageError } from '../../core/errors.js';
import { registryKey } from '../../core/registry-host.js';
import { readAll } from '../../core/io/stdin.js';
import { warn, type CliContext } from '../run.js';

export function registerStoreCommands(program: Command, ctx: CliContext): void {
  program
    .command('login')
    .description('store credentials for a registry in the active store')
    .argument('<registry>', 'registry host, e.g. ghcr.io or localhost:5000')
    .requiredOption('-u, --username <user>', 'user name (use <token> for an identity token)')
    .option('--password-stdin', 'read the password or token from stdin')
    .option('--no-verify', 'store without asking the registry whether the credentials work')
    .option('-q, --quiet', 'print nothing on success')
    .addHelpText(
      'after',
      '\nThe credentials are checked first, as docker login does (GET /v2/, Basic or the Bearer token flow);\n' +
        'a registry that cannot be reached gets them stored with "stored, not verified".\n\n' +
        'Example:\n  echo "$GHCR_TOKEN" | berth login ghcr.io -u octocat --password-stdin\n',
    )
    .action(async (registry: string, options: { username: string; passwordStdin?: boolean; verify: boolean; quiet?: boolean }) => {
      if (!options.passwordStdin) {
        throw new ArgumentError('berth login reads the password from stdin only', {
          hint: 'pipe it in: echo "$TOKEN" | berth login REGISTRY -u USER --password-stdin',
        });
      }
      const secret = (await readAll(ctx.stdin)).replace(/\r?\n$/, '');
      if (secret === '') throw new UsageError('no password on stdin');
      const key = registryKey(registry);
      if (key === '') throw new ArgumentError(`"${registry}" names no registry`);
      let note = '';
      if (options.verify) {
        const { verifyLogin } = await import('../../core/clients/verify-login.js');
        const verdict = await verifyLogin(registry, options.username, secret, { env: ctx.env });
        if (verdict.result === 'unreachable') note = `stored, not verified (${verdict.reason})`;
      }
      const store = await openActiveStore(ctx.env);
      await store.set(key, { username: options.username, secret });
      const { addRegistryIfConfigured } = await import('../../core/clients/config-files.js');
      for (const line of await addRegistryIfConfigured(ctx.env, key)) warn(ctx, line);
      if (note !== '') ctx.stdout.write(`${key}: ${note} (${store.name} store)\n`);
      else if (!options.quiet) ctx.stdout.write(`logged in to ${key} (${store.name} store)\n`);
    });

  program
    .command('logout')
    .description('remove the credentials for a registry from the active store')
    .argument('<registry>', 'registry host')
    .addHelpText('after', '\nExample:\n  berth logout ghcr.io\n')
    .action(async (registry: string) => {
      const key = registryKey(registry);
      if (key === '') throw new ArgumentError(`"${registry}" names no registry`);
      const store = await openActiveStore(ctx.env);
      if ((await store.get(key)) === undefined) {
        ctx.stdout.write(`not logged in to ${key} (${store.name} store)\n`);
        return;
      }
      await store.erase(key);
      ctx.stdout.write(`logged out of ${key}\n`);
    });

  program
    .command('list')
    .description('list the registries in the active store and their user names (never secrets)')
    .option('--json', 'print a JSON object registry → user name')
    .addHelpText('after', '\nExample:\n  berth list\n')
    .action(async (options: { json?: boolean }) => {
      const store = await openActiveStore(ctx.env);
      const entries = await store.list();
      if (options.json) {
        ctx.stdout.write(`${JSON.stringify(entries)}\n`);
        return;
      }
      const keys = Object.keys(entries).sort();
      if (keys.length === 0) {
        ctx.stdout.write(`no credentials in the ${store.name} store\n`);
        return;
      }
      const width = Math.max(...keys.map((key) => key.length));
      for (const key of keys) ctx.stdout.write(`${key.padEnd(width)}  ${entries[key]}\n`);
    });
}
