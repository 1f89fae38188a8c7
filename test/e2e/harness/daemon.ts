/**
 * @module
 * Starts real daemon processes for end-to-end tests: a fresh home (HOME, XDG_*) per daemon in a
 * temporary directory, the test entry (`daemon-entry.ts`, bundled once with esbuild) or the built
 * `berth` of the selected build (harness/build.ts), and waits until the socket answers. Every process and directory is cleaned up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { build } from 'esbuild';
import { afterAll } from 'vitest';
import { daemonRequest, type DaemonRequest } from '../../../core/resolve/daemon-client.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';
import { DIST, ROOT, type Command } from './build.js';

export { ROOT };

/** A file of the Node build; tests that should also run on the binary use harness/build.ts instead. */
export function distFile(name: 'berth.cjs' | 'berth.js' | 'docker-credential-berth.js'): string {
  const path = join(DIST, name);
  if (!existsSync(path)) throw new Error(`${path} is missing: run npm run build first`);
  return path;
}

/** A temporary home: HOME and every XDG directory under one mkdtemp, runtime dir 0700. */
export async function tempHome(): Promise<{ dir: string; env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }> {
  const dir = await fixtureDir('berth-e2e-');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
  };
  await mkdir(env.XDG_RUNTIME_DIR!, { mode: 0o700 });
  await chmod(dir, 0o700);
  return { dir, env, cleanup: () => removeDir(dir) };
}

// Registered on the importing test file: its bundle goes when the file's tests are done.
const entryBuilds = new Map<string, Promise<string>>();

// Registered on the importing test file: its bundles go when the file's tests are done.
afterAll(async () => {
  const outfiles = await Promise.all([...entryBuilds.values()].map((built) => built.catch(() => undefined)));
  entryBuilds.clear();
  for (const outfile of outfiles) if (outfile) await removeDir(dirname(outfile));
});

/**
 * Bundles `test/e2e/harness/<name>.ts` once per test file, so it runs as its own node process;
 * readable by others, as the unprivileged fault cases run it too.
 */
export function bundleHarnessEntry(name: string): Promise<string> {
  let built = entryBuilds.get(name);
  if (!built) {
    built = (async () => {
      const outdir = await fixtureDir(`berth-${name}-`);
      const outfile = join(outdir, `${name}.mjs`);
      await build({
        entryPoints: [join(ROOT, `test/e2e/harness/${name}.ts`)],
        outfile,
        bundle: true,
        format: 'esm',
        platform: 'node',
        target: 'node20',
        // As build.mjs: packages' ESM builds, and the native keychain addon loaded from node_modules.
        mainFields: ['module', 'main'],
        external: ['@napi-rs/keyring'],
        banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
        logLevel: 'warning',
      });
      await chmod(outdir, 0o755);
      await chmod(outfile, 0o644);
      return outfile;
    })();
    entryBuilds.set(name, built);
  }
  return built;
}

/** The test daemon entry (./daemon-entry.ts), bundled once per test file. */
export const harnessDaemonEntry = (): Promise<string> => bundleHarnessEntry('daemon-entry');

export interface DaemonProcess {
  child: ChildProcess;
  socketPath: string;
  output: () => string;
  request: (path: string, options?: Omit<DaemonRequest, 'path'>) => Promise<{ status: number; body: string }>;
  /** SIGTERM and wait for the exit code. */
  stop: () => Promise<number | null>;
}

/**
 * Runs `node <script> <args>` (a harness entry) or a built program (`berthCommand('berth')`) with
 * `env`, waiting until the daemon answers `/healthz` on `socketPath`.
 */
export async function startDaemonProcess(
  program: string | Command,
  args: string[],
  env: NodeJS.ProcessEnv,
  socketPath: string,
): Promise<DaemonProcess> {
  const command = typeof program === 'string' ? { file: process.execPath, args: [program] } : program;
  const child = spawn(command.file, [...command.args, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const request = async (path: string, options: Omit<DaemonRequest, 'path'> = {}) =>
    daemonRequest(socketPath, { connectTimeoutMs: 10_000, responseTimeoutMs: 30_000, ...options, path });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${output}`);
    const up = await request('/healthz', { connectTimeoutMs: 1000, responseTimeoutMs: 1000 }).then(
      (r) => r.status === 200,
      () => false,
    );
    // The log line comes after the pid file and every listener: the daemon is fully up.
    if (up && output.includes('listening on')) break;
    if (Date.now() > deadline) throw new Error(`daemon did not answer within 30 s: ${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    child,
    socketPath,
    output: () => output,
    request,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A metric's value from Prometheus text, or undefined. */
export function metric(text: string, name: string, registry: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{registry="${registry}"} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}
