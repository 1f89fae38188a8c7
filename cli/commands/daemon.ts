/**
 * @module
 * `berth daemon start|stop|status`. `start` runs the daemon in the foreground (systemd, containers)
 * or, with `--detach`, in the background until its socket answers (the same program started again:
 * see core/io/self.ts). The daemon's code is a separate bundle (`berth-daemon.js`) loaded at run
 * time, so other commands never load express; the standalone executable carries it. `stop` and
 * `status` only talk to the socket.
 */
import { spawn } from 'node:child_process';
import { existsSync, openSync, closeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join } from '../../core/io/path.js';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { loadConfig } from '../../core/config/load.js';
import { DaemonUnavailableError, daemonRequest, daemonSocketPath } from '../../core/resolve/daemon-client.js';
import { ArgumentError, BerthError, UsageError } from '../../core/errors.js';
import { berthCliCommand } from '../../core/io/self.js';
import { berthCacheDir } from '../../core/paths.js';
import { say, type CliContext, type DaemonModule } from '../run.js';
import { formatStatus, type StatusReply } from './daemon-status.js';

interface StartOptions {
  detach?: boolean;
  listen?: string;
  tokenFile?: string;
  socket?: string;
  logFile?: string;
}

/** Exit code of `status` when no daemon answers (as `systemctl status` and LSB scripts use). */
const NOT_RUNNING_EXIT = 3;

export function registerDaemonCommands(program: Command, ctx: CliContext): void {
  const daemon = program
    .command('daemon')
    .description('the local daemon that keeps registry tokens fresh before they expire')
    .addHelpText('after', '\nExample:\n  berth daemon start --detach && berth daemon status\n');

  daemon
    .command('start')
    .description('run the daemon (in the foreground unless --detach)')
    .option('--detach', 'run in the background; return once the socket answers')
    .option('--listen <host:port>', 'also listen on loopback TCP (requests need the bearer token)')
    .option('--token-file <path>', 'bearer token file for --listen (created 0600 if absent)')
    .option('--socket <path>', 'unix socket path (default $XDG_RUNTIME_DIR/berth/daemon.sock)')
    .option('--log-file <path>', 'with --detach, where the daemon logs (default in the cache dir)')
    .addHelpText(
      'after',
      '\nExamples:\n  berth daemon start\n  berth daemon start --detach\n  berth daemon start --listen 127.0.0.1:7583\n',
    )
    .action((options: StartOptions) => start(ctx, options));

  daemon
    .command('stop')
    .description('stop the running daemon (it finishes in-flight requests and removes its socket)')
    .option('--socket <path>', 'unix socket path')
    .addHelpText('after', '\nExample:\n  berth daemon stop\n')
    .action((options: { socket?: string }) => stop(ctx, options));

  daemon
    .command('invalidate')
    .description("drop one registry's cached token; the next request fetches a new one")
    .argument('<registry>', 'registry host, e.g. 123456789012.dkr.ecr.eu-west-1.amazonaws.com')
    .option('--socket <path>', 'unix socket path')
    .addHelpText('after', '\nExample:\n  berth daemon invalidate 123456789012.dkr.ecr.eu-west-1.amazonaws.com\n')
    .action((registry: string, options: { socket?: string }) => invalidate(ctx, registry, options));

  daemon
    .command('reload')
    .description("re-read the config file and take this shell's cloud variables; every token is fetched again")
    .option('--socket <path>', 'unix socket path')
    .addHelpText(
      'after',
      '\nThe daemon drops the provider variables it started with (AWS_*, GOOGLE_*, AZURE_*, proxies, and every\n' +
        "variable a registry names) and takes this shell's. SIGHUP re-reads the config file only.\n\nExample:\n  berth daemon reload\n",
    )
    .action(async (options: { socket?: string }) => {
      const registries = await reloadDaemon(ctx, options.socket);
      if (registries === undefined) throw notRunning(await socketFor(ctx, options.socket));
      ctx.stdout.write(`berth daemon reloaded: ${registries.length} configured ${registries.length === 1 ? 'registry' : 'registries'}\n`);
    });

  daemon
    .command('install-unit')
    .description('write the systemd user unit, starting this berth by its absolute path')
    .option('-o, --output <path>', 'where to write it, or - for stdout (default ~/.config/systemd/user/berth-daemon.service)')
    .option('-f, --force', 'replace an existing unit file')
    .addHelpText(
      'after',
      '\nExamples:\n  berth daemon install-unit && systemctl --user daemon-reload && systemctl --user enable --now berth-daemon\n' +
        '  berth daemon install-unit -o -\n',
    )
    .action((options: { output?: string; force?: boolean }) => installUnit(ctx, options));

  daemon
    .command('status')
    .description("show each registry's token age, expiry and last refresh error")
    .option('--socket <path>', 'unix socket path')
    .option('--json', 'print the daemon status as JSON')
    .addHelpText('after', '\nExample:\n  berth daemon status\n')
    .action((options: { socket?: string; json?: boolean }) => status(ctx, options));
}

async function start(ctx: CliContext, options: StartOptions): Promise<void> {
  const socketPath = await socketFor(ctx, options.socket);
  if (options.detach) return startDetached(ctx, options, socketPath);
  const listen = options.listen === undefined ? undefined : parseListen(options.listen);
  const { runForeground } = await (ctx.loadDaemon ?? loadDaemonBundle)();
  await runForeground({
    env: ctx.env,
    log: say(ctx).info,
    socketPath,
    ...(listen ? { listen } : {}),
    ...(options.tokenFile ? { tokenFile: options.tokenFile } : {}),
  });
}

async function stop(ctx: CliContext, options: { socket?: string }): Promise<void> {
  const socketPath = await socketFor(ctx, options.socket);
  // Asked through the socket, not by pid: in a container the daemon's pid names another process here.
  const reply = await daemonRequest(socketPath, { method: 'POST', path: '/v1/shutdown' }).catch((err: unknown) => {
    if (err instanceof DaemonUnavailableError) return undefined;
    throw err;
  });
  if (!reply) {
    ctx.stdout.write(`berth daemon is not running (${socketPath})\n`);
    return;
  }
  if (reply.status !== 202) throw new BerthError(`berth daemon refused to stop: ${reply.body}`);
  const { pid } = JSON.parse(reply.body) as { pid: number };
  await waitFor(async () => (await daemonPid(socketPath)) === undefined, 15_000, `berth daemon (pid ${pid}) did not stop within 15 s`);
  ctx.stdout.write(`berth daemon stopped (pid ${pid})\n`);
}

async function invalidate(ctx: CliContext, registry: string, options: { socket?: string }): Promise<void> {
  const socketPath = await socketFor(ctx, options.socket);
  const reply = await daemonRequest(socketPath, { method: 'POST', path: '/v1/invalidate', body: { registry } }).catch((err: unknown) => {
    throw err instanceof DaemonUnavailableError ? notRunning(socketPath) : err;
  });
  const body = JSON.parse(reply.body) as { invalidated?: boolean; error?: string };
  if (reply.status !== 200) throw new UsageError(body.error ?? `berth daemon answered ${reply.status}`);
  ctx.stdout.write(body.invalidated ? `dropped the cached token for ${registry}\n` : `no cached token for ${registry}\n`);
}

async function status(ctx: CliContext, options: { socket?: string; json?: boolean }): Promise<void> {
  const socketPath = await socketFor(ctx, options.socket);
  const reply = await daemonRequest(socketPath, { path: '/v1/status' }).catch((err: unknown) => {
    throw err instanceof DaemonUnavailableError ? notRunning(socketPath) : err;
  });
  if (options.json) ctx.stdout.write(`${reply.body}\n`);
  else ctx.stdout.write(formatStatus(JSON.parse(reply.body) as StatusReply, socketPath));
}

/**
 * Asks a running daemon to reload with this process's provider variables; undefined when no daemon
 * answers. Used by `berth daemon reload` and after `registries add|remove`.
 */
export async function reloadDaemon(ctx: CliContext, socket?: string): Promise<string[] | undefined> {
  const socketPath = await socketFor(ctx, socket);
  const { config } = await loadConfig(ctx.env);
  const { providerEnvironment } = await import('../../core/resolve/provider-env.js');
  const body = { env: providerEnvironment(ctx.env, config) };
  const reply = await daemonRequest(socketPath, { method: 'POST', path: '/v1/reload', body, responseTimeoutMs: 15_000 }).catch(
    (err: unknown) => {
      if (err instanceof DaemonUnavailableError) return undefined;
      throw err;
    },
  );
  if (!reply) return undefined;
  const answer = JSON.parse(reply.body) as { registries?: string[]; error?: string };
  if (reply.status !== 200) throw new BerthError(`berth daemon refused to reload: ${answer.error ?? reply.status}`);
  return answer.registries ?? [];
}

async function installUnit(ctx: CliContext, options: { output?: string; force?: boolean }): Promise<void> {
  const { unitText, runningBerth } = await import('./daemon-unit.js');
  const { realpathSync } = await import('node:fs');
  const script = process.argv[1] ? realpathSync(process.argv[1]) : undefined;
  const text = unitText(runningBerth(process.execPath, script, existsSync));
  if (options.output === '-') {
    ctx.stdout.write(text);
    return;
  }
  const home = ctx.env.XDG_CONFIG_HOME || join(ctx.env.HOME || '', '.config');
  const target = options.output ?? join(home, 'systemd', 'user', 'berth-daemon.service');
  if (existsSync(target) && !options.force) {
    throw new BerthError(`${target} exists`, { hint: 'replace it with --force' });
  }
  const { writeFileAtomic } = await import('../../core/io/atomic.js');
  await writeFileAtomic(target, text, { mode: 0o644, dirMode: 0o755 });
  ctx.stdout.write(`wrote ${target}\nthen run: systemctl --user daemon-reload && systemctl --user enable --now berth-daemon\n`);
}

function notRunning(socketPath: string): BerthError {
  return new BerthError(`berth daemon is not running (${socketPath})`, { exitCode: NOT_RUNNING_EXIT, hint: 'berth daemon start --detach' });
}

async function socketFor(ctx: CliContext, option: string | undefined): Promise<string> {
  if (option) return option;
  const { config } = await loadConfig(ctx.env);
  return daemonSocketPath(ctx.env, config.daemon?.socket);
}

export function parseListen(value: string): { host: string; port: number } {
  const match = /^(\[::1\]|[^:]+):(\d{1,5})$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new ArgumentError(`--listen ${value}: expected HOST:PORT, e.g. 127.0.0.1:7583`);
  return { host: match[1] === '[::1]' ? '::1' : match[1]!, port };
}

/** The daemon's pid from its own answer, or undefined when nothing answers on the socket. */
async function daemonPid(socketPath: string): Promise<number | undefined> {
  try {
    const reply = await daemonRequest(socketPath, { path: '/healthz' });
    const pid = (JSON.parse(reply.body) as { pid?: unknown }).pid;
    return typeof pid === 'number' ? pid : undefined;
  } catch (err) {
    if (err instanceof DaemonUnavailableError) return undefined;
    throw err;
  }
}

async function waitFor(done: () => Promise<boolean>, timeoutMs: number, message: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new BerthError(message);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Starts `berth daemon start` again, detached, logging to a file; returns once its socket answers. */
async function startDetached(ctx: CliContext, options: StartOptions, socketPath: string): Promise<void> {
  const running = await daemonPid(socketPath);
  if (running !== undefined) throw new BerthError(`a berth daemon is already running (pid ${running}, ${socketPath})`);
  const logFile = options.logFile ?? join(berthCacheDir(ctx.env), 'daemon.log');
  await mkdir(dirname(logFile), { recursive: true, mode: 0o700 });
  const log = openSync(logFile, 'a', 0o600);
  const command = await berthCliCommand(ctx.programPath);
  if (!command) throw new BerthError('cannot start the daemon in the background: berth.js not found beside this program');
  const [program, ...leading] = command;
  const args = [...leading, 'daemon', 'start', '--socket', socketPath];
  if (options.listen) args.push('--listen', options.listen);
  if (options.tokenFile) args.push('--token-file', options.tokenFile);
  const child = spawn(program, args, { detached: true, stdio: ['ignore', log, log], env: { ...ctx.env } });
  closeSync(log);
  let exited: number | null | undefined;
  child.once('exit', (code) => (exited = code));
  child.unref();
  let answering: number | undefined;
  await waitFor(
    async () => {
      answering = await daemonPid(socketPath);
      if (answering === undefined && exited !== undefined) {
        throw new BerthError(`berth daemon exited with code ${exited} while starting`, { hint: `see ${logFile}` });
      }
      return answering !== undefined;
    },
    15_000,
    `berth daemon did not answer on ${socketPath} within 15 s`,
  );
  // Another start that ran at the same time won the socket; this one's daemon stops on its own.
  if (answering !== child.pid) throw new BerthError(`a berth daemon is already running (pid ${answering}, ${socketPath})`);
  ctx.stdout.write(`berth daemon started (pid ${child.pid}, ${socketPath}, log ${logFile})\n`);
}

/** The daemon bundle sits beside the CLI bundle (or one level up from a chunk). */
async function loadDaemonBundle(): Promise<DaemonModule> {
  const here = dirname(fileURLToPath(import.meta.url));
  const entry = [join(here, 'berth-daemon.js'), join(here, '..', 'berth-daemon.js')].find((path) => existsSync(path));
  if (!entry) throw new BerthError(`cannot find berth-daemon.js beside ${here}`, { hint: 'run berth from its build (npm run build)' });
  return (await import(pathToFileURL(entry).href)) as DaemonModule;
}
