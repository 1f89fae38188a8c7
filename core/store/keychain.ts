/**
 * @module
 * The `keychain` store: the OS keychain through @napi-rs/keyring (Secret Service on Linux, Keychain on
 * macOS, Credential Manager on Windows). One item per registry, service `berth`, account = the store
 * key, password = `{"ServerURL","Username","Secret"}` as JSON. `list` asks the keychain for every
 * `berth` item (`findCredentials`, which each platform supports), so there is no separate index that
 * concurrent writers could overwrite.
 *
 * On Linux the store never falls back to the kernel keyring (its entries vanish at reboot) and never
 * lets the library near a bus that might not answer: see `dbus-probe.ts`.
 */
import { StoreError, oneLine } from '../errors.js';
import type { Env } from '../paths.js';
import { BusProbeError, probeSecretService } from './dbus-probe.js';
import { useFileStoreAdvice } from './fallback.js';
import type { Credential, Store, StoreContext } from './store.js';
import { withStoreLock } from '../io/lock.js';
import { loadPackage } from '../io/packages.js';
import { STANDALONE } from '../io/self.js';

type Keyring = typeof import('@napi-rs/keyring');

/** The keychain service every berth item is filed under. */
export const KEYCHAIN_SERVICE = 'berth';

/** Generous: on a loaded machine a healthy bus can take seconds to answer a new client. */
const PROBE_TIMEOUT_MS = 8_000;
/** Long enough for a person to answer an unlock prompt on a desktop. */
const CALL_TIMEOUT_MS = 30_000;
/** Secret Service only: the library's silent fallback, the kernel keyring, forgets everything at reboot. */
const ENTRY_OPTIONS = { linux: { store: 'secret-service' } } as const;

export async function openKeychainStore(ctx: StoreContext): Promise<Store> {
  if (usesSecretService()) await checkSecretService(ctx.env);
  return keychainStore(await loadKeyring(ctx.env), ctx.env);
}

function usesSecretService(): boolean {
  return process.platform === 'linux' || process.platform === 'freebsd';
}

async function checkSecretService(env: Env): Promise<void> {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  if (!address) throw unavailable(env, 'DBUS_SESSION_BUS_ADDRESS is not set (no D-Bus session bus)');
  try {
    await probeSecretService(address, PROBE_TIMEOUT_MS);
  } catch (err) {
    if (!(err instanceof BusProbeError)) throw err;
    // An address this probe cannot speak to (an exotic transport) is left to the library itself.
    if (err.reason === 'unsupported-address') return;
    throw unavailable(env, err.message);
  }
}

function unavailable(env: Env, why: string): StoreError {
  return new StoreError(`the keychain store is not available: ${why}; ${useFileStoreAdvice(env)}`, {
    hint: 'the keychain store on Linux needs a Secret Service (gnome-keyring, KWallet, KeePassXC) in the session',
  });
}

async function loadKeyring(env: Env): Promise<Keyring> {
  try {
    return await loadPackage('@napi-rs/keyring');
  } catch (err) {
    if (STANDALONE) return loadCarriedKeyring(env, err);
    throw new StoreError(
      `cannot load @napi-rs/keyring on ${process.platform}-${process.arch}: ${oneLine(err)}; ${useFileStoreAdvice(env)}`,
      { cause: err },
    );
  }
}

/** The executable's own copy once loaded: the daemon opens the store for every request. */
let carried: Promise<Keyring> | undefined;

/** The executable's own copy of the addon, where its runtime could not load it (see embedded-addon.ts). */
function loadCarriedKeyring(env: Env, runtimeFailure: unknown): Promise<Keyring> {
  carried ??= (async () => {
    try {
      return (await (await import('../io/embedded-addon.js')).loadEmbeddedAddon(env, 'keyring.')) as Keyring;
    } catch (err) {
      carried = undefined; // a later call tries again
      throw new StoreError(
        `cannot load the keychain addon: ${addonFailure(runtimeFailure)}; nor from ${oneLine(err)}; ${useFileStoreAdvice(env)}`,
        {
          cause: err,
          hint: 'the executable unpacks the addon to TMPDIR (else /tmp), then to its cache directory: one of them must be a directory of yours that allows executables (not mounted noexec)',
        },
      );
    }
  })();
  return carried;
}

/** What the runtime said about the addon's file (its loader wraps it in an npm hint that does not apply here). */
function addonFailure(err: unknown): string {
  for (let cause = err; cause instanceof Error; cause = cause.cause) {
    if (/\.node: /.test(cause.message)) return oneLine(cause);
  }
  return oneLine(err);
}

function keychainStore(keyring: Keyring, env: Env): Store {
  const call = <T>(action: string, work: (signal: AbortSignal) => Promise<T>) => callKeychain(env, action, work);
  const entry = (key: string) => new keyring.AsyncEntry(KEYCHAIN_SERVICE, key, ENTRY_OPTIONS);
  // Writes are serialised: the platform APIs replace an item in several steps (search, then
  // create or update), and two writers of one key could otherwise leave two items behind.
  const locked = <T>(work: () => Promise<T>) => withStoreLock(env, 'keychain', work);
  return {
    name: 'keychain',
    set: (key, credential) => locked(() => call('store', (signal) => entry(key).setPassword(encodeEntry(key, credential), signal))),
    async get(key) {
      const text = await call('get', (signal) => entry(key).getPassword(signal));
      if (text === null) return undefined;
      const credential = decodeEntry(text);
      if (!credential) throw new StoreError(`the keychain item ${KEYCHAIN_SERVICE}/${key} is not a berth entry`);
      return credential;
    },
    erase: (key) =>
      locked(async () => {
        await call('erase', (signal) => entry(key).deleteCredential(signal));
      }),
    async list() {
      const found = await call('list', (signal) => keyring.findCredentialsAsync(KEYCHAIN_SERVICE, null, signal));
      const result: Record<string, string> = Object.create(null);
      // An item some other program filed under the same service is not berth's to list.
      for (const { account, password } of found) {
        const credential = decodeEntry(password);
        if (credential) result[account] = credential.username;
      }
      return result;
    },
  };
}

/**
 * Runs one keychain call under a deadline, retrying while the keychain is merely slow. The library's
 * Secret Service client gives up on a reply after about two seconds, which a busy gnome-keyring (many
 * helpers started at once by a parallel build) exceeds; every call here is idempotent, so trying again
 * is safe. The library cannot cancel a call already under way: one past the deadline is abandoned.
 */
async function callKeychain<T>(env: Env, action: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      const message = `the keychain did not answer within ${CALL_TIMEOUT_MS / 1000}s (${action})`;
      reject(new StoreError(`${message}; ${useFileStoreAdvice(env)}`, { hint: 'an unlock prompt may be waiting on the desktop' }));
    }, CALL_TIMEOUT_MS);
  });
  try {
    return await Promise.race([retryWhileSlow(controller.signal, work), deadline]);
  } catch (err) {
    throw err instanceof StoreError ? err : keychainError(env, action, err);
  } finally {
    clearTimeout(timer);
  }
}

const SLOW_REPLY = /did not receive a reply|NoReply|timed? ?out/i;

async function retryWhileSlow<T>(signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      // The entry constructor can throw synchronously: keep that inside the promise.
      return await Promise.resolve().then(() => work(signal));
    } catch (err) {
      if (signal.aborted || !SLOW_REPLY.test(oneLine(err))) throw err;
      // Back off with jitter so helpers started together do not all come back at once.
      await new Promise((resolve) => setTimeout(resolve, Math.min(2_000, 100 * 2 ** attempt) * Math.random()));
    }
  }
}

function keychainError(env: Env, action: string, err: unknown): StoreError {
  const detail = oneLine(err);
  if (/\blocked\b|\bunlock|IsLocked/i.test(detail)) {
    return new StoreError(`the keychain is locked (${detail}); ${useFileStoreAdvice(env)}`, {
      hint: 'unlock the login keyring (log in to the desktop session, or gnome-keyring-daemon --unlock)',
      cause: err,
    });
  }
  return new StoreError(`keychain ${action} failed: ${detail}`, { hint: useFileStoreAdvice(env), cause: err });
}

/** The item's password: docker-credential-helpers' JSON, `ServerURL` being the store key. */
function encodeEntry(key: string, credential: Credential): string {
  return JSON.stringify({ ServerURL: key, Username: credential.username, Secret: credential.secret });
}

function decodeEntry(text: string): Credential | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object') return undefined;
  const { ServerURL, Username, Secret } = parsed as Record<string, unknown>;
  if (typeof ServerURL !== 'string' || typeof Username !== 'string' || typeof Secret !== 'string') return undefined;
  return { username: Username, secret: Secret };
}
