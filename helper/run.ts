/**
 * @module
 * `docker-credential-berth`: what docker, docker-py, buildx and containers/image start once per
 * pull (helper/main.ts on Node, standalone/main.ts in the executable). Only this module touches argv
 * and the exit code; the work is in `handleCommand`. Its import graph stays small: stores and
 * providers are loaded only when an action needs them.
 */
import { loadConfig, type ConfigLoader, type LoadedConfig } from '../core/config/load.js';
import { openActiveStore } from '../core/store/index.js';
import type { Env } from '../core/paths.js';
import type { Credential } from '../core/credential.js';
import { messages } from '../core/io/messages.js';
import { readStandardInput, writeOut, writesDone } from '../core/io/sys.js';
import { VERSION } from '../core/version.js';
import { handleCommand, isAction, usage } from './protocol.js';

/**
 * stdout is the protocol and stderr reaches the user on every pull: what libraries print on their
 * own (Node's MetadataLookupWarning from gcp-metadata, the AWS SDK's multi-line "Multiple credential
 * sources" and Node-version warnings, a stray console.log that would corrupt the answer) goes to
 * stderr only with BERTH_DEBUG=1. berth's own diagnostics write to process.stderr directly.
 */
function quietLibraries(env: Env): void {
  const debug = env.BERTH_DEBUG === '1';
  const toStderr = (...args: unknown[]) => {
    if (debug) process.stderr.write(`berth: debug: ${args.map(String).join(' ')}\n`);
  };
  for (const method of ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const) console[method] = toStderr;
  process.removeAllListeners('warning');
  process.on('warning', (warning) => toStderr(`${warning.name}: ${warning.message}`));
}

async function serve(): Promise<number> {
  const args = process.argv.slice(2);
  const action = args[0];
  if (args.length !== 1 || action === undefined || !isAction(action)) {
    process.stdout.write(`${usage('docker-credential-berth')}\n`);
    return 1;
  }
  const env = process.env;
  quietLibraries(env);
  // The config file is read once: for the store's choice, then (on a store miss) the daemon's socket
  // and the registries.
  let loaded: Promise<LoadedConfig> | undefined;
  const config: ConfigLoader = () => (loaded ??= loadConfig(env, { lenient: true }));
  return handleCommand(
    action,
    {
      openStore: () => openActiveStore(env, config),
      resolve: (serverURL) => resolve(serverURL, env, config),
      afterStore: async (registryKey) => (await import('../core/clients/config-files.js')).addRegistryIfConfigured(env, registryKey),
      version: VERSION,
      env,
    },
    {
      // process.stdin is created on first use: for a pipe that loads node:net and node:stream
      get stdin() {
        return process.stdin;
      },
      readStdin: () => readStandardInput(),
      stdout: descriptorWriter(1),
      stderr: descriptorWriter(2),
    },
  );
}

/** fd 1 or 2 written without a stream (core/io/sys.ts). */
function descriptorWriter(fd: 1 | 2): { write(text: string): boolean } {
  return {
    write(text) {
      writeOut(fd, text);
      return true;
    },
  };
}

/**
 * A registry the store does not hold: the daemon when it answers, else resolved here (providers and
 * the on-disk cache). Loaded only on a store miss: a plain `get` never imports config, cache or clouds.
 */
async function resolve(serverURL: string, env: Env, config: ConfigLoader): Promise<Credential | undefined> {
  const { daemonFirst } = await import('../core/resolve/daemon-first.js');
  const say = messages(descriptorWriter(2), env);
  return daemonFirst(env, {
    loadConfig: config,
    // providers, the cache and the config checks are loaded only when the daemon does not answer
    direct: async (url) => (await import('../core/resolve/context.js')).resolveForHelper(url, env, say.warning, config),
    warn: say.warning,
    ...(process.argv[1] ? { programPath: process.argv[1] } : {}),
  })(serverURL);
}

/** Answers this process's one protocol call and sets the exit code. */
export function runHelper(): void {
  // The AWS SDK warns on stderr about Node versions it will drop, and the helper's stderr reaches
  // the user on every pull. The SDK's documented switch silences only that warning; it reads
  // process.env.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void serve()
    .then(async (code) => {
      try {
        await writesDone();
        return code;
      } catch (err) {
        writeOut(2, `berth: error: cannot write the answer: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
        return 1;
      }
    })
    .then((code) => {
      process.exitCode = code;
      // A native keychain call abandoned at its deadline keeps a thread busy, and such a thread blocks
      // even process.exit(). The answer is already written; make sure the process does not outlive it.
      // The timer is unref'd, so a normal run exits at once without waiting for it.
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 2_000).unref();
    });
}
