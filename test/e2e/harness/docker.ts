/**
 * @module
 * The real Docker engine for end-to-end tests: Debian's `dockerd` started as root on its own socket,
 * data root and exec root (no iptables, no bridge, vfs storage), so it touches nothing else on the
 * machine. Containers run with `--network none` or `--network host`; classic builds
 * (`DOCKER_BUILDKIT=0`) since there is no buildx plugin. No registry on the internet is reachable:
 * the base image is made locally from this machine's node binary (`docker import`).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRootfsTar, type Result } from './podman.js';
import type { Tool } from './tools.js';

export const DOCKER_TOOLS: Tool[] = [
  { program: 'dockerd', debianPackage: 'docker.io' },
  { program: 'docker', debianPackage: 'docker.io' },
  { program: 'containerd', debianPackage: 'containerd' },
  { program: 'ldd', debianPackage: 'libc-bin' },
  { program: 'tar', debianPackage: 'tar' },
];

export interface DockerEngine {
  /** `unix:///…/docker.sock`, for `DOCKER_HOST`. */
  host: string;
  /** Runs `docker ARGS` against this engine with `env` (e.g. a client home's HOME); never throws on a non-zero exit. */
  exec(args: readonly string[], options?: { env?: Record<string, string>; stdin?: string; timeoutMs?: number }): Promise<Result>;
  /** Builds a Dockerfile from the repository root (classic builder); returns the image tag. */
  build(dockerfile: string, buildArgs: Record<string, string>): Promise<string>;
  /** A base image with node at /usr/local/bin/node, made on first use. */
  baseImage(): Promise<string>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

function runDocker(args: readonly string[], env: NodeJS.ProcessEnv, stdin: string | undefined, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    const child = execFile('docker', args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: err && code === 1 && !stderr ? String(err.message) : stderr });
    });
    child.stdin?.end(stdin ?? '');
  });
}

async function waitReady(host: string, child: ChildProcess, log: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`dockerd exited with ${child.exitCode}: ${(await readFile(log, 'utf8')).slice(-2000)}`);
    const { code } = await runDocker(['version'], { ...process.env, DOCKER_HOST: host }, undefined, 10_000);
    if (code === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`dockerd not ready after ${READY_TIMEOUT_MS / 1000}s: ${(await readFile(log, 'utf8')).slice(-2000)}`);
}

export interface DockerdOptions {
  /** Registries dockerd may reach without verifying TLS (`--insecure-registry`). */
  insecureRegistries?: readonly string[];
  /** dockerd's own environment on top of this process's (e.g. `HTTPS_PROXY` for its pulls). */
  env?: Record<string, string>;
}

/** Unmounts whatever dockerd left mounted below `dir` (deepest first), so the directory can go. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = await readFile('/proc/self/mounts', 'utf8').catch(() => '');
  const targets = mounts
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((target) => target.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const target of targets) {
    await new Promise((resolve) => execFile('umount', ['-l', target], () => resolve(undefined)));
  }
}

export async function startDockerd(repoRoot: string, options: DockerdOptions = {}): Promise<DockerEngine> {
  if (process.getuid?.() !== 0) throw new Error('dockerd needs root here (run the end-to-end tests as root, as CI does)');
  const dir = await mkdtemp(join(tmpdir(), 'berth-dockerd-'));
  await mkdir(join(dir, 'exec'));
  const host = `unix://${join(dir, 'docker.sock')}`;
  const log = join(dir, 'dockerd.log');
  const logFd = openSync(log, 'a');
  const child = spawn(
    'dockerd',
    [
      '--iptables=false',
      '--ip6tables=false',
      '--bridge=none',
      '--storage-driver=vfs',
      `--data-root=${join(dir, 'data')}`,
      `--exec-root=${join(dir, 'exec')}`,
      `--pidfile=${join(dir, 'dockerd.pid')}`,
      ...(options.insecureRegistries ?? []).map((registry) => `--insecure-registry=${registry}`),
      '-H',
      host,
    ],
    { stdio: ['ignore', logFd, logFd], env: { ...process.env, ...options.env } },
  );
  closeSync(logFd);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let base: Promise<string> | undefined;
  const built: string[] = [];
  const exec: DockerEngine['exec'] = (args, options = {}) =>
    runDocker(
      args,
      { ...process.env, ...options.env, DOCKER_HOST: host, DOCKER_BUILDKIT: '0' },
      options.stdin,
      options.timeoutMs ?? 180_000,
    );
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 20_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    }
    // Running a container leaves dockerd's bind mount of the host network namespace behind.
    await unmountUnder(dir);
    // vfs layers and container state are plain directories: remove them all.
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await waitReady(host, child, log);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host,
    exec,
    async build(dockerfile, buildArgs) {
      const tag = `berth-test-${randomBytes(4).toString('hex')}:latest`;
      const argFlags = Object.entries(buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);
      const result = await exec(['build', '-q', '-f', join(repoRoot, dockerfile), ...argFlags, '-t', tag, repoRoot], {
        timeoutMs: 300_000,
      });
      if (result.code !== 0) throw new Error(`docker build ${dockerfile} failed: ${result.stderr.trim().slice(-2000)}`);
      built.push(tag);
      return tag;
    },
    baseImage() {
      base ??= (async () => {
        const tag = 'berth-test-node-base:latest';
        const archive = await makeRootfsTar(await realpath(process.execPath), join(dir, 'base'));
        const result = await exec(['import', archive, tag]);
        if (result.code !== 0) throw new Error(`docker import failed: ${result.stderr.trim()}`);
        await rm(join(dir, 'base'), { recursive: true, force: true });
        return tag;
      })();
      return base;
    },
    stop,
  };
}
