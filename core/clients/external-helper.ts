/**
 * @module
 * Another credential helper (`docker-credential-pass`, `-secretservice`, `-osxkeychain`, …) driven
 * through its own protocol: `list`, `get`, `store`. berth knows nothing about its storage. Every
 * call has a deadline (a locked keychain or a pinentry nobody answers would hang forever), and every
 * failure is one line naming the program.
 */
import { BerthError, NOT_FOUND_MESSAGE, oneLine } from '../errors.js';
import type { Env } from '../paths.js';
import { CommandNotStartedError, CommandTimeoutError, runCommand } from '../io/run-command.js';
import type { Credentials } from '../store/store.js';
import { HELPER_NAME } from './config-files.js';

export const HELPER_TIMEOUT_MS = 20_000;

/** A helper could not be run, hung, or answered with something other than the protocol. */
export class HelperError extends BerthError {
  override name = 'HelperError';
}

export interface ExternalHelper {
  /** The name clients use (`pass` for `docker-credential-pass`). */
  readonly name: string;
  readonly program: string;
  list(): Promise<Record<string, string>>;
  get(serverURL: string): Promise<Credentials | undefined>;
  store(credentials: Credentials): Promise<void>;
}

/** `pass`, `docker-credential-pass` and a path to either all name the same helper. */
export function helperName(given: string): string {
  const base = given.split('/').pop() ?? given;
  return base.startsWith('docker-credential-') ? base.slice('docker-credential-'.length) : base;
}

/** The deadline of each call: `BERTH_HELPER_TIMEOUT` (seconds), else 20 s. */
function timeoutFrom(env: Env): number {
  const seconds = Number(env.BERTH_HELPER_TIMEOUT);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : HELPER_TIMEOUT_MS;
}

export function openExternalHelper(env: Env, given: string, timeoutMs = timeoutFrom(env)): ExternalHelper {
  const name = helperName(given);
  if (name === '' || name === HELPER_NAME) {
    throw new HelperError(`"${given}" is berth itself; name another helper (pass, secretservice, osxkeychain, wincred…)`);
  }
  const program = given.includes('/') ? given : `docker-credential-${name}`;
  const call = async (action: string, input: string): Promise<{ ok: boolean; stdout: string }> => {
    let result;
    try {
      result = await runCommand(program, [action], { env, input, timeoutMs });
    } catch (err) {
      if (err instanceof CommandNotStartedError) {
        throw new HelperError(`${program} ${action}: cannot run it (${err.code === 'ENOENT' ? 'not on PATH' : err.code})`, {
          hint: `install it, or check the name: berth looks for ${program} on PATH`,
        });
      }
      if (err instanceof CommandTimeoutError) {
        throw new HelperError(`${program} ${action} did not answer within ${timeoutMs / 1000}s`, {
          hint: 'a locked keychain or a GPG pinentry may be waiting: unlock it and run the command again',
        });
      }
      throw err;
    }
    return { ok: result.code === 0, stdout: result.stdout };
  };
  const fail = (action: string, stdout: string): never => {
    throw new HelperError(`${program} ${action} failed: ${oneLine(stdout.trim() || 'no message')}`);
  };
  return {
    name,
    program,
    async list() {
      // The protocol's list takes no input; close stdin at once.
      const { ok, stdout } = await call('list', '');
      if (!ok) fail('list', stdout);
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        parsed = undefined;
      }
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
        throw new HelperError(`${program} list did not print a JSON object`);
      }
      return Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([url, user]) => [url, String(user)]));
    },
    async get(serverURL) {
      const { ok, stdout } = await call('get', serverURL);
      if (!ok) {
        if (stdout.trim() === NOT_FOUND_MESSAGE) return undefined;
        fail('get', stdout);
      }
      let parsed: { ServerURL?: unknown; Username?: unknown; Secret?: unknown } | undefined;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        parsed = undefined;
      }
      if (typeof parsed?.Username !== 'string' || typeof parsed.Secret !== 'string') {
        // Never echo the output: it may hold the secret.
        throw new HelperError(`${program} get ${serverURL} did not print {"Username","Secret"}`);
      }
      if (parsed.Secret === '') return undefined;
      return { serverURL, username: parsed.Username, secret: parsed.Secret };
    },
    async store(credentials) {
      const input = JSON.stringify({ ServerURL: credentials.serverURL, Username: credentials.username, Secret: credentials.secret });
      const { ok, stdout } = await call('store', input);
      if (!ok) fail('store', stdout);
    },
  };
}
