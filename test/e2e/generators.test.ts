/**
 * The generator images, built with podman from a base that holds nothing but node (no shell, no
 * node_modules) and run as `IMAGE /opt/data/dockercfg` with a mounted directory: the file appears,
 * is valid JSON, mode 0600, written by a non-root user, and skopeo pushes and pulls with it against
 * a real registry in every format skopeo reads. A missing variable fails in one line, with no file.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeOciImage } from './harness/image.js';
import { openPodman, PODMAN_TOOLS, type Podman, type Result } from './harness/podman.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, requireTools, TOOLS } from './harness/tools.js';

const USER = 'generator';
const PASSWORD = 'pw-gen-N4vB8qLx';
const NEEDED = [...PODMAN_TOOLS, TOOLS.registry, TOOLS.htpasswd, TOOLS.skopeo];
const ROOT = resolve('.');

let registry: Registry | undefined;
let podman: Podman | undefined;
const images: Record<string, string> = {};
const dirs: string[] = [];

beforeAll(async () => {
  if (missingTools(NEEDED) !== '') return;
  await stat(join(ROOT, 'dist/generator/berth-generate.js')).catch(() => {
    throw new Error('dist/generator/berth-generate.js is missing: run `npm run build` first');
  });
  registry = await startRegistry([{ username: USER, password: PASSWORD }]);
  podman = await openPodman(ROOT);
  const base = await podman.baseImage();
  for (const name of ['static', 'all']) images[name] = await podman.build(`Dockerfiles/${name}.Dockerfile`, { BASE_IMAGE: base });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await podman?.cleanup();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** Runs a generator with `OUT` mounted at /opt/data; OUT is world-writable like /tmp. */
async function generate(image: string, env: Record<string, string>): Promise<{ result: Result; out: string }> {
  const out = await tempDir('berth-gen-out-');
  await chmod(out, 0o1777);
  const envFlags = Object.entries(env).flatMap(([name, value]) => ['-e', `${name}=${value}`]);
  const result = await podman!.exec(['run', '--rm', '--network', 'host', '-v', `${out}:/opt/data`, ...envFlags, image, '/opt/data/dockercfg']);
  return { result, out };
}

function skopeo(args: string[], home: string): Promise<Result> {
  const env = { PATH: process.env.PATH ?? '', HOME: home, XDG_RUNTIME_DIR: join(home, 'run'), XDG_CONFIG_HOME: join(home, 'config') };
  return new Promise((done) => {
    execFile('skopeo', args, { env, timeout: 120_000 }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** A home where skopeo finds no credentials but the ones the test places. */
async function skopeoHome(): Promise<string> {
  const home = await tempDir('berth-gen-skopeo-');
  await mkdir(join(home, 'run'), { mode: 0o700 });
  return home;
}

/** Pushes a fresh image and pulls it back with the given auth; returns the failing step or ''. */
async function pushAndPull(home: string, authArgs: string[], repository: string): Promise<string> {
  const image = await makeOciImage(await tempDir('berth-gen-image-'));
  const target = `docker://${registry!.host}/${repository}:v1`;
  const push = await skopeo(['copy', '--insecure-policy', '--dest-tls-verify=false', ...authArgs, image, target], home);
  if (push.code !== 0) return `push: ${push.stderr}`;
  const pulled = join(home, 'pulled');
  const pull = await skopeo(['copy', '--insecure-policy', '--src-tls-verify=false', ...authArgs, target, `dir:${pulled}`], home);
  if (pull.code !== 0) return `pull: ${pull.stderr}`;
  return (await readdir(pulled)).includes('manifest.json') ? '' : 'pull: no manifest';
}

/** Where skopeo reads each format: an --authfile, or the legacy ~/.dockercfg. */
async function placeForSkopeo(format: string, text: string, home: string): Promise<string[]> {
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

describe('static generator image', () => {
  const staticEnv = () => ({ DOCKER_USERNAME: USER, DOCKER_PASSWORD: PASSWORD, DOCKER_REGISTRY: registry!.host });

  it.for(['config', 'dockercfg', 'k8s-secret', 'k8s-dockercfg-secret'])(
    'writes a 0600 %s file as a non-root user that skopeo pushes and pulls with',
    async (format, ctx) => {
      requireTools(NEEDED, ctx.skip);
      const { result, out } = await generate(images.static!, { ...staticEnv(), BERTH_FORMAT: format });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).not.toContain(PASSWORD);
      expect(await readdir(out)).toEqual(['dockercfg']);
      const file = join(out, 'dockercfg');
      const info = await stat(file);
      expect((info.mode & 0o777).toString(8)).toBe('600');
      expect(info.uid).not.toBe(0);
      const text = await readFile(file, 'utf8');
      const home = await skopeoHome();
      expect(await pushAndPull(home, await placeForSkopeo(format, text, home), `berth/gen-${format}`)).toBe('');
    },
  );

  it('a wrong password gives a file the registry refuses', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await generate(images.static!, { ...staticEnv(), DOCKER_PASSWORD: 'wrong-password' });
    expect(result.code, result.stderr).toBe(0);
    const home = await skopeoHome();
    const failure = await pushAndPull(home, await placeForSkopeo('config', await readFile(join(out, 'dockercfg'), 'utf8'), home), 'berth/gen-wrong');
    expect(failure).toMatch(/^push: .*(unauthorized|authentication required)/is);
  });

  it('a missing variable: exit ≠ 0, one line naming it, no file', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await generate(images.static!, { DOCKER_USERNAME: USER, DOCKER_REGISTRY: registry!.host });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^berth-generate: error: DOCKER_PASSWORD is not set: [^\n]+\n$/);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('all-providers generator image', () => {
  it('writes a registry from BERTH_REGISTRIES that is no cloud host with the static credentials', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const env = { BERTH_REGISTRIES: registry!.host, DOCKER_USERNAME: USER, DOCKER_PASSWORD: PASSWORD };
    const { result, out } = await generate(images.all!, env);
    expect(result.code, result.stderr).toBe(0);
    const home = await skopeoHome();
    const authArgs = await placeForSkopeo('config', await readFile(join(out, 'dockercfg'), 'utf8'), home);
    expect(await pushAndPull(home, authArgs, 'berth/gen-all')).toBe('');
  });

  it('without BERTH_REGISTRIES or BERTH_PROVIDER it names the variable', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await generate(images.all!, {});
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^berth-generate: error: BERTH_REGISTRIES is not set: [^\n]+\n$/);
    expect(await readdir(out)).toEqual([]);
  });
});
