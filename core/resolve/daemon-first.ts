/**
 * @module
 * "Ask the daemon, else resolve directly": what the helper's `get` and `berth generate` do for a
 * registry the store does not hold. A daemon that answers wins (its tokens are kept fresh ahead of
 * expiry); one that is absent, crashed or wedged costs at most the client's short timeouts and the
 * caller resolves on its own. With `daemon.autoStart` in the config (or `BERTH_DAEMON_AUTOSTART=1`)
 * an absent daemon is started in the background for next time, as git's credential-cache does.
 */
import { loadConfig, type Config, type ConfigLoader } from '../config/load.js';
import { registryKey } from '../registry-host.js';
import { DaemonUnavailableError, credentialFromDaemon, daemonSocketPath, type DaemonRequest } from './daemon-client.js';
import type { Env } from '../paths.js';
import type { Credential } from '../credential.js';

/** What the daemon or the direct path found for a server URL; the daemon says until when its token is valid. */
export type ResolveServerURL = (serverURL: string) => Promise<Credential | undefined>;

export interface DaemonFirstOptions {
  /** The direct path, used when the daemon does not answer. */
  direct?: ResolveServerURL;
  /** Where diagnostics go (the helper's stderr); never a secret. */
  warn?: (line: string) => void;
  /** The `berth` CLI to start the daemon with; default: this build's own (see core/io/self.ts). */
  berthScript?: string;
  /** The running program's file (the shell's `process.argv[1]`), to find `berth.js` beside it. */
  programPath?: string;
  /** The client's timeouts; the defaults are short (a live local socket answers in a millisecond). */
  timeouts?: Pick<DaemonRequest, 'connectTimeoutMs' | 'responseTimeoutMs'>;
  /** The config as the caller has it already; default: read (lenient) on each call. */
  loadConfig?: ConfigLoader;
}

export function daemonFirst(env: Env, options: DaemonFirstOptions = {}): ResolveServerURL {
  return async (serverURL) => {
    const { config } = await (options.loadConfig ?? (() => loadConfig(env, { lenient: true })))();
    // The daemon keeps one token per host: a host whose registries split it by repository prefix
    // is resolved here, where the repository path picks the registry.
    if (scopedByPrefix(config, serverURL)) return options.direct?.(serverURL);
    const socketPath = daemonSocketPath(env, config.daemon?.socket);
    try {
      return await credentialFromDaemon(socketPath, serverURL, options.timeouts ?? timeoutsFrom(env));
    } catch (err) {
      if (!(err instanceof DaemonUnavailableError)) throw err;
      const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code;
      const absent = cause === 'ENOENT' || cause === 'ECONNREFUSED';
      if (!absent) options.warn?.(`${err.message}; resolving directly`);
      if (absent && (config.daemon?.autoStart || env.BERTH_DAEMON_AUTOSTART === '1')) {
        await startInBackground(env, options);
      }
      return options.direct?.(serverURL);
    }
  };
}

/** Whether a configured registry for the server URL's host serves only a repository prefix of it. */
function scopedByPrefix(config: Config, serverURL: string): boolean {
  const key = registryKey(serverURL);
  return key !== '' && (config.registries ?? []).some((registry) => registry.prefix !== undefined && registryKey(registry.host) === key);
}

/** `BERTH_DAEMON_CONNECT_TIMEOUT_MS` and `BERTH_DAEMON_TIMEOUT_MS` (the answer) override the defaults. */
function timeoutsFrom(env: Env): Pick<DaemonRequest, 'connectTimeoutMs' | 'responseTimeoutMs'> {
  const ms = (value: string | undefined) => (value && Number(value) > 0 ? Number(value) : undefined);
  const connectTimeoutMs = ms(env.BERTH_DAEMON_CONNECT_TIMEOUT_MS);
  const responseTimeoutMs = ms(env.BERTH_DAEMON_TIMEOUT_MS);
  return { ...(connectTimeoutMs ? { connectTimeoutMs } : {}), ...(responseTimeoutMs ? { responseTimeoutMs } : {}) };
}

/** Starts `berth daemon start --detach` without waiting for it; this call resolves directly. */
async function startInBackground(env: Env, { berthScript, programPath, warn }: DaemonFirstOptions): Promise<void> {
  // Loaded here, not on every get: only an auto-start needs to know how this build runs itself.
  const command = berthScript ? [process.execPath, berthScript] : await (await import('../io/self.js')).berthCliCommand(programPath);
  if (!command) {
    warn?.('cannot auto-start the daemon: berth.js not found beside this program');
    return;
  }
  const { spawn } = await import('node:child_process');
  const [program, ...leading] = command;
  const child = spawn(program!, [...leading, 'daemon', 'start', '--detach'], { detached: true, stdio: 'ignore', env: { ...env } });
  child.once('error', (err) => warn?.(`cannot auto-start the daemon: ${err.message}`));
  child.unref();
}
