/**
 * @module
 * The checks behind `berth doctor`: which store is active and why, whether it answers, whether the
 * helper is on PATH, and which client config files send registries to berth. Each check says what
 * it looked at (store, path, variable) and, when it fails, what to do.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, readdir, stat } from 'node:fs/promises';
import { delimiter, join } from '../io/path.js';
import { activeStoreChoice } from '../store/index.js';
import {
  CLIENT_NAMES,
  HELPER_NAME,
  berthRegistries,
  clientKey,
  pointsAtBerth,
  shadowedByPrimaryAuthFile,
  tryReadClientFile,
  type ClientFile,
} from './config-files.js';
import { oneLine } from '../errors.js';
import { hintOf } from '../io/messages.js';
import { knownRegistries } from './known-registries.js';
import type { Env } from '../paths.js';
import { fileStorePaths } from '../store/file.js';
import { openStore, type StoreChoice } from '../store/index.js';
import { withTimeout } from '../io/timeout.js';
import { loadConfig } from '../config/load.js';

import type { Check } from './check.js';

export type { Check, CheckLevel } from './check.js';

export const HELPER_PROGRAM = `docker-credential-${HELPER_NAME}`;
const STORE_TIMEOUT_MS = 15_000;

export async function runChecks(env: Env): Promise<Check[]> {
  const checks: Check[] = await berthConfigChecks(env);
  let choice: StoreChoice | undefined;
  try {
    choice = await activeStoreChoice(env);
  } catch (err) {
    checks.push({ level: 'fail', subject: 'store', message: oneLine(err), hint: hintOf(err) });
  }
  if (choice) checks.push(...(await storeChecks(env, choice)));
  const helper = await helperCheck(env);
  const files = await Promise.all(CLIENT_NAMES.map((client) => tryReadClientFile(env, client)));
  const fileChecks = await clientFileChecks(env, files);
  const anyPointsAtBerth = files.some((file) => !(file instanceof Error) && pointsAtBerth(file));
  // A missing helper only breaks something once a client is told to call it.
  if (helper.level === 'fail' && !anyPointsAtBerth) helper.level = 'warn';
  checks.push(helper, ...fileChecks);
  const leftovers = await import('./doctor-leftovers.js');
  checks.push(...(await leftovers.plaintextChecks(env)), ...(await leftovers.otherHelperChecks(env)));
  return checks;
}

/** Where berth's own config file is, and every entry in it that is skipped (with its line). */
async function berthConfigChecks(env: Env): Promise<Check[]> {
  const subject = 'berth';
  try {
    const { path, exists, config, problems } = await loadConfig(env);
    const count = config.registries?.length ?? 0;
    const summary = exists
      ? `config file ${path}, ${count} ${count === 1 ? 'registry' : 'registries'}`
      : `config file ${path} (not created yet; berth registries add creates it)`;
    return [
      { level: 'ok', subject, message: summary },
      ...problems.map((problem): Check => ({ level: 'fail', subject, message: problem, hint: 'fix that entry, or remove it' })),
    ];
  } catch (err) {
    return [{ level: 'fail', subject, message: oneLine(err), hint: hintOf(err) ?? 'fix the file, or move it aside' }];
  }
}

async function storeChecks(env: Env, choice: StoreChoice): Promise<Check[]> {
  const subject = 'store';
  const checks: Check[] = [];
  const prerequisite = await storePrerequisite(env, choice);
  if (prerequisite) return [prerequisite];
  try {
    const store = await withTimeout(openStore(choice.name, { env }), STORE_TIMEOUT_MS, `opening the ${choice.name} store`);
    const entries = await withTimeout(store.list(), STORE_TIMEOUT_MS, `listing the ${choice.name} store`);
    const count = Object.keys(entries).length;
    checks.push({ level: 'ok', subject, message: `${choice.name} (${choice.reason}), ${count} ${count === 1 ? 'entry' : 'entries'}` });
  } catch (err) {
    checks.push({ level: 'fail', subject, message: `${choice.name} (${choice.reason}): ${oneLine(err)}`, hint: hintOf(err) });
  }
  if (choice.name === 'file') checks.push(...(await fileStoreChecks(env)));
  return checks;
}

/** The key file (made at the first login) and every file beside it must be private. */
async function fileStoreChecks(env: Env): Promise<Check[]> {
  const { keyPath, storePath, dir } = fileStorePaths({ env });
  const key = await stat(keyPath).catch(() => undefined);
  const loose = await looseFileChecks(dir);
  if (!key) {
    if (await exists(storePath)) return loose; // list() above already failed and said so
    return [{ level: 'ok', subject: 'store', message: `no key file yet; the first login creates ${keyPath} (0600)` }, ...loose];
  }
  if ((key.mode & 0o077) !== 0) return loose;
  return [{ level: 'ok', subject: 'store', message: `key file ${keyPath} (0600)` }, ...loose];
}

/** What a backend needs before it can be asked anything; undefined when it is there. */
async function storePrerequisite(env: Env, choice: StoreChoice): Promise<Check | undefined> {
  const fail = (message: string, hint: string): Check => ({
    level: 'fail',
    subject: 'store',
    message: `${choice.name} (${choice.reason}): ${message}`,
    hint,
  });
  if (choice.name === 'keychain' && process.platform === 'linux' && !env.DBUS_SESSION_BUS_ADDRESS) {
    return fail(
      'no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service',
      'on a headless machine use the file store: unset BERTH_STORE or set BERTH_STORE=file',
    );
  }
  // Whether the password store is initialised is the store's own check (`.gpg-id` in its folder or
  // above, or PASSWORD_STORE_KEY), run when it is opened below.
  if (choice.name === 'pass' && !(await findOnPath(env, 'pass'))) {
    return fail('`pass` is not on PATH', 'install it (Debian: apt install pass) or use BERTH_STORE=file');
  }
  return undefined;
}

/** The file store's files hold secrets or the key to them: nobody else may read them. */
async function looseFileChecks(dir: string): Promise<Check[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const checks: Check[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => undefined);
    if (info?.isFile() && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, '0');
      checks.push({
        level: 'fail',
        subject: 'store',
        message: `${path} is readable by others (mode ${mode})`,
        hint: `run: chmod 600 ${path}`,
      });
    }
  }
  return checks;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

export async function findOnPath(env: Env, program: string): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, program);
    const ok = await access(candidate, constants.X_OK).then(
      () => true,
      () => false,
    );
    if (ok && (await stat(candidate)).isFile()) return candidate;
  }
  return undefined;
}

async function helperCheck(env: Env): Promise<Check> {
  const subject = 'helper';
  const path = await findOnPath(env, HELPER_PROGRAM);
  if (!path) {
    return {
      level: 'fail',
      subject,
      message: `${HELPER_PROGRAM} is not on PATH`,
      hint: 'clients look it up on PATH: link dist/docker-credential-berth.js there, or install berth globally (npm install -g)',
    };
  }
  const version = await new Promise<string | Error>((resolve) => {
    execFile(path, ['version'], { env: { ...env }, timeout: STORE_TIMEOUT_MS }, (err, stdout) => resolve(err ?? stdout.trim()));
  });
  if (version instanceof Error) {
    return { level: 'fail', subject, message: `${path} does not run: ${oneLine(version)}` };
  }
  return { level: 'ok', subject, message: `${path} (${version})` };
}

async function clientFileChecks(env: Env, files: (ClientFile | Error)[]): Promise<Check[]> {
  const checks: Check[] = [];
  const known = await knownRegistries(env);
  for (const file of files) {
    if (file instanceof Error) {
      checks.push({ level: 'fail', subject: 'config', message: oneLine(file), hint: hintOf(file) });
      continue;
    }
    checks.push(describeClientFile(file, known.registryKeys));
  }
  const containers = files.find((file): file is ClientFile => !(file instanceof Error) && file.client === 'containers');
  if (containers && berthRegistries(containers).length > 0) {
    for (const line of await shadowedByPrimaryAuthFile(env, known.registryKeys)) {
      checks.push({ level: 'warn', subject: 'containers', message: line });
    }
  }
  return checks;
}

function describeClientFile(file: ClientFile, registryKeys: readonly string[]): Check {
  const subject = file.client;
  const ours = berthRegistries(file);
  if (file.client === 'docker' && file.json.credsStore === HELPER_NAME) {
    return { level: 'ok', subject, message: `${file.path}: credsStore is berth${ours.length ? `, credHelpers: ${ours.join(', ')}` : ''}` };
  }
  if (!file.exists || ours.length === 0) {
    return {
      level: 'warn',
      subject,
      message: `${file.path} ${file.exists ? 'does not name berth' : 'does not exist'}`,
      hint: 'run: berth configure',
    };
  }
  const missing = registryKeys.map((key) => clientKey(file.client, key)).filter((key) => !ours.includes(key));
  if (missing.length > 0) {
    return {
      level: 'warn',
      subject,
      message: `${file.path}: credHelpers send ${ours.join(', ')} to berth, not ${missing.join(', ')}`,
      hint: 'run: berth configure',
    };
  }
  return { level: 'ok', subject, message: `${file.path}: credHelpers send ${ours.join(', ')} to berth` };
}
