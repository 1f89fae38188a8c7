/**
 * The daemon image of the selected build (Node's, or the empty image with the standalone
 * executable), built with podman and run as its Dockerfile says: the socket directory mounted from
 * the host, the config mounted read-only. The host's helper gets a credential through that socket,
 * `podman stop` (SIGTERM to the daemon as pid 1) ends it cleanly and removes the socket, and the
 * binary image has no shell to run.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daemonRequest } from '../../core/resolve/daemon-client.js';
import { BUILD, ROOT, argvFor, imageDockerfile } from './harness/build.js';
import { spawnCollect } from './harness/clients.js';
import { TempDirs } from './harness/generator.js';
import { openPodman, PODMAN_TOOLS, type Podman } from './harness/podman.js';
import { missingTools, requireTools } from './harness/tools.js';

const REGISTRY = 'registry.example:5000';
const SECRET = 'pw-daemon-image-Qe7vT2';

let podman: Podman | undefined;
let image = '';
const temp = new TempDirs();
const containers: string[] = [];

beforeAll(async () => {
  if (missingTools(PODMAN_TOOLS) !== '') return;
  podman = await openPodman(ROOT);
  image = await podman.build(imageDockerfile('daemon'), { BASE_IMAGE: await podman.baseImage() });
}, 600_000);

afterAll(async () => {
  if (containers.length > 0) await podman?.exec(['rm', '-f', ...containers]);
  await podman?.cleanup();
  await temp.cleanup();
});

async function waitFor(done: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !(await done()); ) {
    if (Date.now() > deadline) throw new Error(`${what} within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe(`daemon image (${BUILD} build)`, () => {
  it('serves the host helper through the mounted socket and stops cleanly on podman stop', async (ctx) => {
    requireTools(PODMAN_TOOLS, ctx.skip);
    const dir = await temp.make('berth-daemon-image-');
    const run = join(dir, 'run');
    await mkdir(run, { mode: 0o700 });
    const config = join(dir, 'config.json');
    const registries = [
      { name: 'images', provider: 'static', host: REGISTRY, options: { usernameEnv: 'REG_USER', passwordEnv: 'REG_TOKEN' } },
    ];
    await writeFile(config, JSON.stringify({ registries }));
    const name = `berth-test-daemon-${process.pid}-${Date.now()}`;
    const started = await podman!.exec([
      'run',
      '-d',
      '--name',
      name,
      '--network',
      'none',
      '--user',
      `${process.getuid!()}:${process.getgid!()}`,
      '-v',
      `${run}:/run/berth`,
      '-v',
      `${config}:/etc/berth/config.json:ro`,
      '-e',
      'REG_USER=robot',
      '-e',
      `REG_TOKEN=${SECRET}`,
      image,
    ]);
    expect(started.code, started.stderr).toBe(0);
    containers.push(name);
    const socket = join(run, 'daemon.sock');
    const healthy = () =>
      daemonRequest(socket, { path: '/healthz', connectTimeoutMs: 1000, responseTimeoutMs: 1000 }).then(
        (reply) => reply.status === 200,
        () => false,
      );
    await waitFor(healthy, 'the daemon did not answer');

    const home = await temp.make('berth-daemon-image-home-');
    const env = { HOME: home, PATH: process.env.PATH ?? '', BERTH_DAEMON_SOCKET: socket, BERTH_DAEMON_TIMEOUT_MS: '30000' };
    const got = await spawnCollect(...argvFor('helper', ['get']), env, { stdin: REGISTRY });
    expect(got.stderr).toBe('');
    expect(JSON.parse(got.stdout)).toEqual({ ServerURL: REGISTRY, Username: 'robot', Secret: SECRET });

    const stopped = await podman!.exec(['stop', '-t', '20', name]);
    expect(stopped.code, stopped.stderr).toBe(0);
    const state = await podman!.exec(['inspect', '--format', '{{.State.ExitCode}}', name]);
    expect(state.stdout.trim()).toBe('0');
    expect(existsSync(socket)).toBe(false);
    const logs = await podman!.exec(['logs', name]);
    expect(logs.stderr + logs.stdout).toMatch(/SIGTERM: shutting down/);
    expect(logs.stderr + logs.stdout).not.toContain(SECRET);
  });

  // The Node image's shell is its base image's business; the binary image is empty but for berth.
  if (BUILD === 'binary') {
    it('has no shell: the image holds the executable and nothing to run beside it', async (ctx) => {
      requireTools(PODMAN_TOOLS, ctx.skip);
      const shell = await podman!.exec(['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', image, '-c', 'true']);
      expect(shell.code).not.toBe(0);
      const version = await podman!.exec(['run', '--rm', '--network', 'none', '--entrypoint', '/usr/local/bin/berth', image, '--version']);
      expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^berth \d+\.\d+\.\d+\n$/) });
    });
  }
});
