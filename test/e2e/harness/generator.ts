/**
 * @module
 * Running generator images and checking their files with a real client: a generator runs with a
 * fresh world-writable directory at /opt/data (as /tmp would be), and skopeo pushes and pulls with
 * the file it wrote, in a home where it finds no other credentials.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeOciImage } from './image.js';
import type { Podman, Result } from './podman.js';

/** Temporary directories, removed together. */
export class TempDirs {
  private readonly dirs: string[] = [];

  async make(prefix: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async cleanup(): Promise<void> {
    for (const dir of this.dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  }
}

export interface GeneratorRun {
  result: Result;
  /** The host directory mounted at /opt/data. */
  out: string;
}

/** What runs containers: podman (harness/podman.ts) or the Docker engine (harness/docker.ts). */
export type ContainerEngine = Pick<Podman, 'exec'>;

/**
 * `podman|docker run --rm --network host -v OUT:/opt/data [-v mounts] -e … IMAGE /opt/data/dockercfg`.
 * The host network lets the container reach fakes listening on 127.0.0.1.
 */
export async function runGenerator(
  podman: ContainerEngine,
  temp: TempDirs,
  image: string,
  env: Record<string, string>,
  mounts: Record<string, string> = {},
): Promise<GeneratorRun> {
  const out = await temp.make('berth-gen-out-');
  await chmod(out, 0o1777); // the image's user (65532) writes here, as it would in /tmp
  const envFlags = Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  const mountFlags = Object.entries(mounts).flatMap(([host, container]) => ['-v', `${host}:${container}`]);
  const result = await podman.exec([
    'run',
    '--rm',
    '--network',
    'host',
    '-v',
    `${out}:/opt/data`,
    ...mountFlags,
    ...envFlags,
    image,
    '/opt/data/dockercfg',
  ]);
  return { result, out };
}

export interface SkopeoWorld {
  home: string;
  /** Extra variables (HTTPS_PROXY to reach registries under their cloud names). */
  env?: Record<string, string>;
  /** A directory of CA certificates (`*.crt`) to trust for the registry. */
  certDir?: string;
}

export function skopeo(args: string[], world: SkopeoWorld): Promise<Result> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: world.home,
    XDG_RUNTIME_DIR: join(world.home, 'run'),
    XDG_CONFIG_HOME: join(world.home, 'config'),
    ...world.env,
  };
  return new Promise((done) => {
    execFile('skopeo', args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A home where skopeo finds no credentials but the ones the test places. */
export async function skopeoHome(temp: TempDirs): Promise<string> {
  const home = await temp.make('berth-gen-skopeo-');
  await mkdir(join(home, 'run'), { mode: 0o700 });
  return home;
}

/** Pushes a fresh image to `registryHost/repository:v1` and pulls it back; '' on success, else the failing step. */
export async function pushAndPull(
  world: SkopeoWorld,
  temp: TempDirs,
  authArgs: string[],
  registryHost: string,
  repository: string,
): Promise<string> {
  const image = await makeOciImage(await temp.make('berth-gen-image-'));
  const target = `docker://${registryHost}/${repository}:v1`;
  const tls = (flag: string) => (world.certDir ? [`--${flag}-cert-dir`, world.certDir] : [`--${flag}-tls-verify=false`]);
  const push = await skopeo(['copy', '--insecure-policy', ...tls('dest'), ...authArgs, image, target], world);
  if (push.code !== 0) return `push: ${push.stderr}`;
  const pulled = join(world.home, `pulled-${repository.replace(/\W/g, '-')}`);
  const pull = await skopeo(['copy', '--insecure-policy', ...tls('src'), ...authArgs, target, `dir:${pulled}`], world);
  if (pull.code !== 0) return `pull: ${pull.stderr}`;
  return (await readdir(pulled)).includes('manifest.json') ? '' : 'pull: no manifest';
}

/** Places a generated file where skopeo reads its format (an --authfile, or the legacy ~/.dockercfg); returns the flags. */
export async function placeForSkopeo(format: string, text: string, home: string): Promise<string[]> {
  const parsed = JSON.parse(text);
  const dataKey = format === 'k8s-secret' ? '.dockerconfigjson' : format === 'k8s-dockercfg-secret' ? '.dockercfg' : undefined;
  const payload = dataKey ? Buffer.from(parsed.data[dataKey], 'base64').toString('utf8') : text;
  if (format === 'dockercfg' || format === 'k8s-dockercfg-secret') {
    await writeFile(join(home, '.dockercfg'), payload, { mode: 0o600 });
    return [];
  }
  await writeFile(join(home, 'auth.json'), payload, { mode: 0o600 });
  return ['--authfile', join(home, 'auth.json')];
}
