/**
 * @module
 * `berth doctor`'s checks for credentials that berth does not hold: plaintext logins in the client
 * files and in `DOCKER_AUTH_CONFIG`, and entries left behind in another helper (one berth replaced,
 * or one a client file still names as its `credsStore`).
 */
import { oneLine } from '../errors.js';
import type { Env } from '../paths.js';
import { registryKey } from '../registry-host.js';
import { openActiveStore } from '../store/index.js';
import { withTimeout } from '../io/timeout.js';
import { HELPER_NAME, readClientFile } from './config-files.js';
import type { Check } from './check.js';
import { openExternalHelper } from './external-helper.js';
import { plaintextInEnv, scanPlaintext } from './plaintext.js';
import { readReplaced } from './replaced.js';

const HELPER_CHECK_TIMEOUT_S = 5;

/** One warning per plaintext login; the fix is `berth configure --migrate`. */
export async function plaintextChecks(env: Env): Promise<Check[]> {
  const subject = 'plaintext';
  const checks: Check[] = [];
  const scan = await scanPlaintext(env);
  for (const entry of scan.entries) {
    checks.push({
      level: 'warn',
      subject,
      message: `${entry.file.path}: ${entry.name} holds a plaintext login (${entry.username})`,
      hint: 'run: berth configure --migrate',
    });
  }
  for (const entry of scan.unmovable) {
    checks.push({ level: 'warn', subject, message: `${entry.file.path}: ${entry.name} holds ${entry.reason}` });
  }
  for (const problem of scan.problems) checks.push({ level: 'warn', subject, message: problem });
  const fromEnv = plaintextInEnv(env);
  if (fromEnv.problem) checks.push({ level: 'warn', subject, message: fromEnv.problem });
  if (fromEnv.names.length > 0) {
    checks.push({
      level: 'warn',
      subject,
      message: `DOCKER_AUTH_CONFIG holds plaintext logins for ${fromEnv.names.join(', ')}`,
      hint: 'put them in config.json and run berth configure --migrate (or berth login each), then unset DOCKER_AUTH_CONFIG',
    });
  }
  return checks;
}

/** Entries in another helper that berth's store does not have. */
export async function otherHelperChecks(env: Env): Promise<Check[]> {
  const subject = 'helpers';
  const names = new Set<string>();
  for (const replaced of Object.values(await readReplaced(env))) if (replaced.credsStore) names.add(replaced.credsStore);
  const docker = await readClientFile(env, 'docker').catch(() => undefined);
  const credsStore = docker?.json.credsStore;
  if (typeof credsStore === 'string' && credsStore !== '' && credsStore !== HELPER_NAME) names.add(credsStore);
  if (names.size === 0) return [];
  let held: Set<string>;
  try {
    const store = await openActiveStore(env);
    held = new Set(Object.keys(await withTimeout(store.list(), HELPER_CHECK_TIMEOUT_S * 1000, 'listing the store')).map(registryKey));
  } catch {
    return []; // the store checks already say why
  }
  const checks: Check[] = [];
  for (const name of names) {
    const helper = openExternalHelper({ ...env, BERTH_HELPER_TIMEOUT: String(HELPER_CHECK_TIMEOUT_S) }, name);
    try {
      const missing = Object.keys(await helper.list())
        .map(registryKey)
        .filter((key) => key !== '' && !held.has(key));
      checks.push(
        missing.length === 0
          ? { level: 'ok', subject, message: `berth holds every entry of ${helper.program}` }
          : {
              level: 'warn',
              subject,
              message: `${helper.program} holds ${missing.join(', ')}, which berth does not`,
              hint: `run: berth import --from ${name}`,
            },
      );
    } catch (err) {
      checks.push({ level: 'warn', subject, message: oneLine(err) });
    }
  }
  return checks;
}
