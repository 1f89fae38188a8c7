/**
 * podman and buildah as clients, used as a user would: `berth login R` + `berth configure`, then
 * plain `podman push`/`pull` and `buildah from`/`push` authenticate with what docker-credential-berth
 * returns; `podman login R` (and `skopeo login R`) store through berth and `podman logout R` erases
 * there, whether `berth configure` ran before or after `berth login`. No auth.json
 * (the one berth edits, nor the runtime one `podman login` writes) ever holds a login inline, and
 * no secret reaches any output. Each client gets its own storage (vfs) under the test's home.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHome, type ClientHome, type RunResult } from './harness/clients.js';
import { makeOciImage } from './harness/image.js';
import { PODMAN_TOOLS } from './harness/podman.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, requireTools, TOOLS, type Tool } from './harness/tools.js';

const USER = 'pat';
const PASSWORD = 'pw-podman-e2e-Kd5wN8qT';
const SECOND_USER = 'quinn';
const SECOND_PASSWORD = 'pw-podman-e2e-second-Rm3xB6';
const INLINE = [`${USER}:${PASSWORD}`, `${SECOND_USER}:${SECOND_PASSWORD}`].map((pair) => Buffer.from(pair).toString('base64'));
const NEEDED: Tool[] = [...PODMAN_TOOLS, { program: 'buildah', debianPackage: 'buildah' }, TOOLS.registry, TOOLS.htpasswd];

let registry: Registry | undefined;
let home: ClientHome | undefined;

beforeAll(async () => {
  if (missingTools(NEEDED) !== '') return;
  [registry, home] = await Promise.all([
    startRegistry([
      { username: USER, password: PASSWORD },
      { username: SECOND_USER, password: SECOND_PASSWORD },
    ]),
    clientHome(),
  ]);
  await writeFile(join(home.dir, 'containers.conf'), '[containers]\ndefault_ulimits = []\n');
});
afterAll(async () => {
  await Promise.all([registry?.stop(), home?.cleanup()]);
});

/** A home of its own, with the containers.conf that works here. */
async function freshHome(): Promise<ClientHome> {
  const fresh = await clientHome();
  await writeFile(join(fresh.dir, 'containers.conf'), '[containers]\ndefault_ulimits = []\n');
  return fresh;
}

/** podman and buildah with the recipe that works here, storage under the test's home. */
function clients(h: ClientHome) {
  const storage = ['--root', join(h.dir, 'storage'), '--runroot', join(h.dir, 'runroot'), '--storage-driver', 'vfs'];
  const options = (stdin?: string) => ({ env: { CONTAINERS_CONF: join(h.dir, 'containers.conf') }, stdin, timeoutMs: 180_000 });
  return {
    podman: (args: string[], stdin?: string) => h.run('podman', ['--runtime', '/usr/sbin/runc', ...storage, ...args], options(stdin)),
    buildah: (args: string[], stdin?: string) => h.run('buildah', [...storage, ...args], options(stdin)),
  };
}

async function ok(result: Promise<RunResult>): Promise<RunResult> {
  const done = await result;
  expect(done.code, `${done.command}\n${done.stdout}${done.stderr}`).toBe(0);
  return done;
}

/** Every auth file containers/image reads or writes: berth's, and the runtime one logins go to. */
async function authFiles(h: ClientHome): Promise<Record<string, string>> {
  const paths = [join(h.env.XDG_CONFIG_HOME!, 'containers/auth.json'), join(h.env.XDG_RUNTIME_DIR!, 'containers/auth.json')];
  const texts: Record<string, string> = {};
  for (const path of paths) texts[path] = await readFile(path, 'utf8').catch(() => '');
  return texts;
}

async function expectNothingInline(h: ClientHome): Promise<void> {
  for (const [path, text] of Object.entries(await authFiles(h))) {
    for (const secret of [PASSWORD, SECOND_PASSWORD, ...INLINE]) expect(text, path).not.toContain(secret);
    if (text !== '') expect(Object.keys(JSON.parse(text).auths ?? {}), path).toEqual([]);
  }
}

function expectNoSecretLeaked(h: ClientHome): void {
  for (const run of h.transcript) {
    for (const secret of [PASSWORD, SECOND_PASSWORD]) expect(run.stdout + run.stderr, run.command).not.toContain(secret);
  }
}

describe('podman and buildah through docker-credential-berth', { timeout: 300_000 }, () => {
  it('berth login + configure: podman push and pull, buildah from and push, with credentials only from berth', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const h = home!;
    const { podman, buildah } = clients(h);
    const host = registry!.host;
    await ok(h.berth(['login', host, '-u', USER, '--password-stdin'], { stdin: `${PASSWORD}\n` }));
    await ok(h.berth(['configure']));

    // A local image, no network: one layer with one file.
    await makeOciImage(h.dir);
    await ok(podman(['import', join(h.dir, 'layer.tar'), 'localhost/hello:v1']));
    const refused = await podman([
      'push',
      '--tls-verify=false',
      '--creds',
      `${USER}:wrong`,
      'localhost/hello:v1',
      `docker://${host}/team/hello:v1`,
    ]);
    expect(refused.code, 'the registry checks passwords').not.toBe(0);

    await ok(podman(['push', '--tls-verify=false', 'localhost/hello:v1', `docker://${host}/team/hello:v1`]));
    await ok(podman(['rmi', '-f', 'localhost/hello:v1']));
    await ok(podman(['pull', '--tls-verify=false', `${host}/team/hello:v1`]));
    expect((await ok(podman(['images', '--format', '{{.Repository}}:{{.Tag}}']))).stdout).toContain(`${host}/team/hello:v1`);

    const container = (await ok(buildah(['from', '--tls-verify=false', `${host}/team/hello:v1`]))).stdout.trim();
    await ok(buildah(['commit', container, `${host}/team/built:v1`]));
    await ok(buildah(['push', '--tls-verify=false', `${host}/team/built:v1`]));
    await ok(buildah(['rm', container]));
    await ok(buildah(['pull', '--tls-verify=false', `${host}/team/built:v1`]));

    const calls = await h.helperCalls();
    expect(calls.filter((call) => call === 'get').length).toBeGreaterThanOrEqual(4);
    await expectNothingInline(h);
    expectNoSecretLeaked(h);
  });

  it('podman login stores through berth and podman logout erases there; no auth.json holds it inline', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const h = home!;
    const { podman, buildah } = clients(h);
    const host = registry!.host;
    // Same home: berth is configured and knows the registry. A careless user logs in again anyway.
    const login = await ok(podman(['login', '--tls-verify=false', host, '-u', SECOND_USER, '--password-stdin'], SECOND_PASSWORD));
    expect(login.stdout).toContain('Login Succeeded');
    expect(await h.helperCalls()).toContain('store');
    await expectNothingInline(h);
    const got = await h.run('docker-credential-berth', ['get'], { stdin: host });
    expect(JSON.parse(got.stdout)).toMatchObject({ Username: SECOND_USER });
    expect(got.stdout).toContain(SECOND_PASSWORD);
    h.transcript.pop(); // that output was meant to hold the secret

    await ok(podman(['logout', host]));
    expect(await h.helperCalls()).toContain('erase');
    expect((await h.run('docker-credential-berth', ['get'], { stdin: host })).stdout).toBe('credentials not found in native keychain\n');
    await ok(podman(['rmi', '-a', '-f']));
    const denied = await buildah(['pull', '--tls-verify=false', `${host}/team/hello:v1`]);
    expect(denied.code, 'logged out: the registry refuses the pull').not.toBe(0);
    expect(denied.stderr).toMatch(/unauthorized|authentication required/i);
    await expectNothingInline(h);
    expectNoSecretLeaked(h);
  });

  it('configure with no registry known: a podman login to a registry berth never heard of stores through berth (registries.conf.d)', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const fresh = await freshHome();
    try {
      const { podman } = clients(fresh);
      const host = registry!.host;
      await ok(fresh.berth(['configure']));
      await ok(podman(['login', '--tls-verify=false', host, '-u', USER, '--password-stdin'], PASSWORD));
      expect(await fresh.helperCalls()).toContain('store');
      await expectNothingInline(fresh);
      const got = await fresh.run('docker-credential-berth', ['get'], { stdin: host });
      expect(JSON.parse(got.stdout)).toMatchObject({ Username: USER });
      fresh.transcript.pop(); // that output was meant to hold the secret
      await ok(podman(['logout', host]));
      expect(await fresh.helperCalls()).toContain('erase');
      expect((await fresh.run('docker-credential-berth', ['get'], { stdin: host })).stdout).toBe(
        'credentials not found in native keychain\n',
      );
      expectNoSecretLeaked(fresh);
    } finally {
      await fresh.cleanup();
    }
  });

  it('configure before berth login: the login reaches the file podman login writes; podman login, skopeo logout and login go through berth', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const fresh = await freshHome();
    try {
      const { podman } = clients(fresh);
      const host = registry!.host;
      await ok(fresh.berth(['configure']));
      await ok(fresh.berth(['login', host, '-u', USER, '--password-stdin'], { stdin: PASSWORD }));
      const runtime = JSON.parse((await authFiles(fresh))[join(fresh.env.XDG_RUNTIME_DIR!, 'containers/auth.json')] || '{}');
      expect(runtime.credHelpers).toEqual({ [host]: 'berth' });
      await ok(podman(['login', '--tls-verify=false', host, '-u', SECOND_USER, '--password-stdin'], SECOND_PASSWORD));
      expect(await fresh.helperCalls()).toContain('store');
      // skopeo shares containers/image's auth files: the same holds for it.
      const options = { env: { CONTAINERS_CONF: join(fresh.dir, 'containers.conf') }, timeoutMs: 120_000 };
      await ok(fresh.run('skopeo', ['logout', host], options));
      expect(await fresh.helperCalls()).toContain('erase');
      await ok(fresh.run('skopeo', ['login', '--tls-verify=false', '-u', USER, '--password-stdin', host], { ...options, stdin: PASSWORD }));
      expect((await fresh.helperCalls()).filter((call) => call === 'store')).toHaveLength(2);
      await ok(fresh.run('skopeo', ['inspect', '--tls-verify=false', `docker://${host}/team/hello:v1`], options));
      await expectNothingInline(fresh);
      expectNoSecretLeaked(fresh);
    } finally {
      await fresh.cleanup();
    }
  });
});
