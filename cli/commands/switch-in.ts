/**
 * @module
 * What `berth configure` does before it points clients at berth, so switching hides nothing:
 * `--migrate` moves plaintext logins out of the client files into the store, and a `credsStore`
 * naming another helper has that helper's entries imported first (or configure refuses, with a
 * hint). Both are printed as they happen; a dry run only reports.
 */
import type { ClientFile, ClientName } from '../../core/clients/config-files.js';
import type { Migration } from '../../core/clients/migrate.js';
import { HELPER_NAME } from '../../core/clients/config-files.js';
import { oneLine, UsageError } from '../../core/errors.js';
import { warn, type CliContext } from '../run.js';

/** Moves plaintext logins into the active store (or, dry, plans it) and says what happened. */
export async function migrateStep(ctx: CliContext, dryRun: boolean | undefined): Promise<Migration> {
  const { openActiveStore } = await import('../../core/store/index.js');
  const { migratePlaintext } = await import('../../core/clients/migrate.js');
  const store = await openActiveStore(ctx.env);
  const migration = await migratePlaintext(ctx.env, store, { dryRun });
  ctx.stdout.write(`plaintext logins → berth (${store.name} store):\n`);
  if (migration.moved.length === 0) ctx.stdout.write('  none to move\n');
  for (const moved of migration.moved) {
    ctx.stdout.write(`  ${dryRun ? 'would move' : 'moved'} ${moved.registryKey} (${moved.username}) from ${moved.files.join(', ')}\n`);
  }
  for (const line of migration.problems) warn(ctx, line);
  for (const line of migration.leftBehind) warn(ctx, line);
  if (dryRun) {
    const { unifiedDiff } = await import('../diff.js');
    for (const { file, after } of migration.files) {
      // docker's and containers' files are shown once, with configure's own edit on top.
      if (after !== file.text && file.kind !== 'docker' && file.kind !== 'containers') {
        ctx.stdout.write(unifiedDiff(file.text, after, { before: file.path, after: `${file.path} (after berth configure --migrate)` }));
      }
    }
  }
  return migration;
}

/**
 * The client files configure edits. After `--migrate`, a file it could not parse was already named
 * and is skipped; a dry run shows configure's edit on the migrated text (as a real run would write
 * it), diffed against the file as it is (`diffBase`).
 */
export async function readClientFiles(
  ctx: CliContext,
  clients: readonly ClientName[],
  migration: Migration | undefined,
): Promise<{ files: ClientFile[]; diffBase: Map<ClientFile, string> }> {
  const { readClientFile } = await import('../../core/clients/config-files.js');
  const files: ClientFile[] = [];
  const diffBase = new Map<ClientFile, string>();
  for (const client of clients) {
    const file = await readClientFile(ctx.env, client).catch((err: unknown) => {
      if (migration && err instanceof UsageError) return undefined;
      throw err;
    });
    if (!file) continue;
    const migrated = migration?.files.find((entry) => entry.file.kind === file.client && entry.file.realPath === file.realPath);
    if (!migrated || migrated.after === file.text) {
      files.push(file);
      continue;
    }
    const { parse } = await import('jsonc-parser');
    const shown = { ...file, text: migrated.after, json: parse(migrated.after) as Record<string, unknown> };
    diffBase.set(shown, file.text);
    files.push(shown);
  }
  return { files, diffBase };
}

/**
 * docker's `credsStore` names another helper: import its entries so nothing it holds is hidden
 * once berth answers instead. Returns the registry keys it holds. Refuses when the helper cannot be
 * read, unless `importEntries` is false (`--no-import`).
 */
export async function importReplacedStore(
  ctx: CliContext,
  docker: ClientFile,
  options: { dryRun?: boolean; importEntries: boolean },
): Promise<string[]> {
  const previous = docker.json.credsStore;
  if (typeof previous !== 'string' || previous === '' || previous === HELPER_NAME) return [];
  const program = `docker-credential-${previous}`;
  if (!options.importEntries) {
    warn(ctx, `credsStore was ${previous}: its entries stay in ${program} (see berth doctor; berth import --from ${previous} copies them)`);
    return [];
  }
  const { openExternalHelper } = await import('../../core/clients/external-helper.js');
  const { importFromHelper, describeCounts } = await import('../../core/clients/transfer.js');
  const { openActiveStore } = await import('../../core/store/index.js');
  let report;
  try {
    report = await importFromHelper(openExternalHelper(ctx.env, previous), await openActiveStore(ctx.env), { dryRun: options.dryRun });
  } catch (err) {
    throw new UsageError(`${docker.path} has "credsStore": "${previous}", whose entries berth cannot import: ${oneLine(err)}`, {
      hint: `make ${program} work and run berth configure again, or switch anyway with berth configure --no-import (its entries stay in ${previous})`,
    });
  }
  ctx.stdout.write(`${program} → berth: ${describeCounts(report, options.dryRun)}\n`);
  for (const entry of report.entries) if (entry.reason) warn(ctx, `${entry.registryKey}: ${entry.reason}`);
  if (report.counts.failed > 0) {
    throw new UsageError(`${report.counts.failed} entries of ${program} could not be imported; nothing in ${docker.path} was changed`, {
      hint: `fix them and run berth configure again, or switch anyway with berth configure --no-import`,
    });
  }
  return report.entries.map((entry) => entry.registryKey);
}

/**
 * `credHelpers` entries berth is about to take over for registries it has no login or provider
 * for: copy that one entry from the helper named there, so the registry keeps working. Refuses,
 * changing nothing, when the helper cannot be read.
 */
export async function importReplacedEntries(
  ctx: CliContext,
  files: readonly ClientFile[],
  registryKeys: readonly string[],
  known: ReadonlySet<string>,
  dryRun: boolean | undefined,
): Promise<void> {
  const { clientKey, credHelpersOf } = await import('../../core/clients/config-files.js');
  const { detectProvider } = await import('../../core/providers/index.js');
  const wanted = new Map<string, string>(); // registry key → helper
  for (const file of files) {
    const helpers = credHelpersOf(file);
    for (const key of registryKeys) {
      const helper = helpers[clientKey(file.client, key)];
      // A cloud host gets fresh tokens from its provider: a copied short-lived one would only go stale.
      const servedByBerth = known.has(key) || detectProvider(key) !== undefined;
      if (!servedByBerth && typeof helper === 'string' && helper !== '' && helper !== HELPER_NAME) wanted.set(key, helper);
    }
  }
  if (wanted.size === 0) return;
  const { openExternalHelper } = await import('../../core/clients/external-helper.js');
  const { openActiveStore } = await import('../../core/store/index.js');
  const store = await openActiveStore(ctx.env);
  for (const [key, name] of wanted) {
    let credentials;
    try {
      credentials = await openExternalHelper(ctx.env, name).get(key);
    } catch (err) {
      throw new UsageError(`credHelpers sends ${key} to ${name}, whose entry berth cannot import: ${oneLine(err)}`, {
        hint: `make docker-credential-${name} work, or log in through berth first: berth login ${key}`,
      });
    }
    if (!credentials) continue; // nothing there to hide
    ctx.stdout.write(`docker-credential-${name} → berth: ${dryRun ? 'would copy' : 'copied'} ${key} (${credentials.username})\n`);
    if (!dryRun) await store.set(key, { ...credentials, serverURL: key });
  }
}
