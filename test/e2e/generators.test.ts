/**
 * The generator images, built with podman from a base that holds nothing but node (no shell, no
 * node_modules) and run as `IMAGE /opt/data/dockercfg` with a mounted directory: the file appears,
 * is valid JSON, mode 0600, written by a non-root user, and skopeo pushes and pulls with it against
 * a real registry in every format skopeo reads. A missing variable fails in one line, with no file.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { placeForSkopeo, pushAndPull, runGenerator, skopeoHome, TempDirs } from './harness/generator.js';
import { imageDockerfile } from './harness/build.js';
import { openPodman, PODMAN_TOOLS, type Podman } from './harness/podman.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, requireTools, TOOLS } from './harness/tools.js';

const USER = 'generator';
const PASSWORD = 'pw-gen-N4vB8qLx';
const NEEDED = [...PODMAN_TOOLS, TOOLS.registry, TOOLS.htpasswd, TOOLS.skopeo];
const ROOT = resolve('.');

let registry: Registry | undefined;
let podman: Podman | undefined;
const images: Record<string, string> = {};
const temp = new TempDirs();

beforeAll(async () => {
  if (missingTools(NEEDED) !== '') return;
  registry = await startRegistry([{ username: USER, password: PASSWORD }]);
  podman = await openPodman(ROOT);
  const base = await podman.baseImage();
  for (const name of ['static', 'all'] as const) images[name] = await podman.build(imageDockerfile(name), { BASE_IMAGE: base });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await podman?.cleanup();
  await temp.cleanup();
});

const generate = (image: string, env: Record<string, string>) => runGenerator(podman!, temp, image, env);
const push = async (home: string, authArgs: string[], repository: string) =>
  pushAndPull({ home }, temp, authArgs, registry!.host, repository);

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
      const home = await skopeoHome(temp);
      expect(await push(home, await placeForSkopeo(format, text, home), `berth/gen-${format}`)).toBe('');
    },
  );

  it('a wrong password gives a file the registry refuses', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await generate(images.static!, { ...staticEnv(), DOCKER_PASSWORD: 'wrong-password' });
    expect(result.code, result.stderr).toBe(0);
    const home = await skopeoHome(temp);
    const failure = await push(
      home,
      await placeForSkopeo('config', await readFile(join(out, 'dockercfg'), 'utf8'), home),
      'berth/gen-wrong',
    );
    expect(failure).toMatch(/^push: .*(unauthorized|authentication required)/is);
  });

  it('a missing variable: exit ≠ 0, one line naming it, no file', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await generate(images.static!, { DOCKER_USERNAME: USER, DOCKER_REGISTRY: registry!.host });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^berth: error: DOCKER_PASSWORD is not set: [^\n]+\n$/);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('generator outputs', () => {
  const staticEnv = () => ({ DOCKER_USERNAME: USER, DOCKER_PASSWORD: PASSWORD, DOCKER_REGISTRY: registry!.host });

  it('a mount the image user cannot write: one line naming the directory, and the --user hint', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await runGenerator(podman!, temp, images.static!, staticEnv(), {}, { outMode: 0o755 });
    expect(result.code).toBe(1);
    const owner = (await stat(out)).uid;
    expect(result.stderr.split('\n').slice(-3).join('\n')).toBe(
      `berth: error: cannot write to /opt/data: permission denied for uid 65532, owned by uid ${owner}\n` +
        `berth: hint: run the container with --user $(id -u) (or --user ${owner}, the mount's owner), or make /opt/data writable by uid 65532\n`,
    );
    expect(await readdir(out)).toEqual([]);
  });

  it('- writes the config to stdout', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await runGenerator(podman!, temp, images.static!, staticEnv(), {}, { output: '-' });
    expect(result.code, result.stderr).toBe(0);
    expect(Object.keys(JSON.parse(result.stdout).auths)).toEqual([registry!.host]);
    expect(result.stderr).toMatch(/wrote stdout \(config\)\n$/);
    expect(await readdir(out)).toEqual([]);
  });
});

describe('all-providers generator image', () => {
  it('writes a registry from BERTH_REGISTRIES that is no cloud host with the static credentials', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const env = { BERTH_REGISTRIES: registry!.host, DOCKER_USERNAME: USER, DOCKER_PASSWORD: PASSWORD };
    const { result, out } = await generate(images.all!, env);
    expect(result.code, result.stderr).toBe(0);
    const home = await skopeoHome(temp);
    const authArgs = await placeForSkopeo('config', await readFile(join(out, 'dockercfg'), 'utf8'), home);
    expect(await push(home, authArgs, 'berth/gen-all')).toBe('');
  });

  it('without BERTH_REGISTRIES or BERTH_PROVIDER it names the variable', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await generate(images.all!, {});
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/^berth: error: BERTH_REGISTRIES is not set: [^\n]+\n$/);
    expect(await readdir(out)).toEqual([]);
  });
});
