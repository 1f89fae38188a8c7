/**
 * @module
 * Containers without a Docker engine or a registry on the internet: podman with the recipe that
 * works on these machines (a containers.conf with no default ulimits, the runc runtime), and a base
 * image made locally from this machine's node binary, its libraries, /etc/passwd and CA
 * certificates. The base image is made once per node binary and reused by every test file.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, chmod, mkdir, mkdtemp, realpath, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import { requireTools, type Tool } from './tools.js';

export const PODMAN_TOOLS: Tool[] = [
  { program: 'podman', debianPackage: 'podman' },
  { program: '/usr/sbin/runc', debianPackage: 'runc' },
  { program: 'ldd', debianPackage: 'libc-bin' },
  { program: 'tar', debianPackage: 'tar' },
];

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Podman {
  /** Runs `podman ARGS` with the working recipe; never throws on a non-zero exit. */
  exec(args: readonly string[], options?: { timeoutMs?: number }): Promise<Result>;
  /** Builds a Dockerfile from the repository root; returns the image tag. Removed by `cleanup`. */
  build(dockerfile: string, buildArgs: Record<string, string>): Promise<string>;
  /** The local base image (node at /usr/local/bin/node), made on first use. */
  baseImage(): Promise<string>;
  cleanup(): Promise<void>;
}

export function requirePodman(skip: (note: string) => void): void {
  requireTools(PODMAN_TOOLS, skip);
}

function run(program: string, args: readonly string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile(program, args, { env, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr: err && code === 1 && !stderr ? String(err.message) : stderr });
    });
  });
}

async function check(result: Promise<Result>, what: string): Promise<Result> {
  const done = await result;
  if (done.code !== 0) throw new Error(`${what} failed (exit ${done.code}): ${done.stderr.trim().slice(-2000)}`);
  return done;
}

export async function openPodman(repoRoot: string): Promise<Podman> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-podman-'));
  const conf = join(dir, 'containers.conf');
  await writeFile(conf, '[containers]\ndefault_ulimits = []\n');
  const env = { ...process.env, CONTAINERS_CONF: conf };
  const built: string[] = [];
  const exec: Podman['exec'] = (args, options = {}) =>
    run('podman', ['--runtime', '/usr/sbin/runc', ...args], env, options.timeoutMs ?? 180_000);
  const podman: Podman = {
    exec,
    async build(dockerfile, buildArgs) {
      const tag = `localhost/berth-test-${randomBytes(4).toString('hex')}:latest`;
      const argFlags = Object.entries(buildArgs).flatMap(([name, value]) => ['--build-arg', `${name}=${value}`]);
      await check(
        exec(['build', '-q', '-f', join(repoRoot, dockerfile), ...argFlags, '-t', tag, repoRoot], { timeoutMs: 300_000 }),
        `podman build ${dockerfile}`,
      );
      built.push(tag);
      return tag;
    },
    baseImage: () => ensureBaseImage(exec, dir),
    async cleanup() {
      if (built.length > 0) await exec(['rmi', '-f', ...built]);
      await rm(dir, { recursive: true, force: true });
    },
  };
  return podman;
}

/** One base image per node binary (path, size, mtime): test files share it, later runs reuse it. */
async function ensureBaseImage(exec: Podman['exec'], workDir: string): Promise<string> {
  const node = await realpath(process.execPath);
  const info = await stat(node);
  const id = createHash('sha256').update(`${node} ${info.size} ${info.mtimeMs} ${process.version}`).digest('hex').slice(0, 16);
  const tag = `localhost/berth-test-node-base:${id}`;
  if ((await exec(['image', 'exists', tag])).code === 0) return tag;
  // Test files run in parallel: one of them makes the image, the others wait for it.
  const lockTarget = join(tmpdir(), `berth-test-node-base-${id}`);
  const release = await lockfile.lock(lockTarget, {
    realpath: false,
    stale: 120_000,
    retries: { retries: 600, minTimeout: 200, maxTimeout: 500 },
  });
  try {
    if ((await exec(['image', 'exists', tag])).code === 0) return tag;
    const archive = await makeRootfsTar(node, join(workDir, 'base'));
    await check(exec(['import', archive, tag]), 'podman import');
    return tag;
  } finally {
    await release();
  }
}

/** A rootfs with node at /usr/local/bin/node and what it needs to run, as a tar. */
export async function makeRootfsTar(node: string, dir: string): Promise<string> {
  const rootfs = join(dir, 'rootfs');
  const place = async (source: string, target: string) => {
    await mkdir(dirname(join(rootfs, target)), { recursive: true });
    await copyFile(source, join(rootfs, target)); // copies the file a symlink points to
  };
  await place(node, '/usr/local/bin/node');
  await chmod(join(rootfs, 'usr/local/bin/node'), 0o755);
  const { stdout } = await check(run('ldd', [node], process.env, 30_000), 'ldd');
  for (const library of stdout.matchAll(/(\/\S+) \(0x/g)) await place(library[1]!, library[1]!);
  await place('/etc/ssl/certs/ca-certificates.crt', '/etc/ssl/certs/ca-certificates.crt');
  await mkdir(join(rootfs, 'etc'), { recursive: true });
  await writeFile(
    join(rootfs, 'etc/passwd'),
    'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n',
  );
  await writeFile(join(rootfs, 'etc/group'), 'root:x:0:\nnonroot:x:65532:\n');
  await mkdir(join(rootfs, 'tmp'), { recursive: true });
  await chmod(join(rootfs, 'tmp'), 0o1777);
  const archive = join(dir, 'rootfs.tar');
  await check(run('tar', ['-C', rootfs, '--numeric-owner', '--owner=0', '--group=0', '-cf', archive, '.'], process.env, 60_000), 'tar');
  return archive;
}
