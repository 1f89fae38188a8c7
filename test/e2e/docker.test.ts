/**
 * The Docker CLI and the real engine, with credentials only from docker-credential-berth: `berth
 * configure` sets `credsStore`, `docker login` stores through the helper, push and pull authenticate
 * with what berth returns, `docker logout` erases, and a pull after that is refused by the registry.
 * config.json never holds a secret.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHome, type ClientHome } from './harness/clients.js';
import { type DockerEngine, DOCKER_TOOLS, startDockerd } from './harness/docker.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, TOOLS, type Tool } from './harness/tools.js';
import { createPassStore, dockerCredentialPass, PASS_COMPONENTS } from './harness/pass-store.js';

const ROOT = resolve(import.meta.dirname, '../..');
const USER = 'dora';
const PASSWORD = 'pw-docker-e2e-Vb7nQ2xL';
const PASS_TOOLS: Tool[] = Object.entries(PASS_COMPONENTS).map(([program, debianPackage]) => ({ program, debianPackage }));
const NEEDED = [...DOCKER_TOOLS, TOOLS.registry, TOOLS.htpasswd, TOOLS.skopeo, TOOLS.debianPython, ...PASS_TOOLS];
const AUTH = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');

let engine: DockerEngine | undefined;
let registry: Registry | undefined;
let home: ClientHome | undefined;
const missing = missingTools(NEEDED);

beforeAll(async () => {
  if (missing !== '') {
    if (process.env.CI) throw new Error(`required for this test: ${missing}`);
    return;
  }
  [engine, registry, home] = await Promise.all([startDockerd(ROOT), startRegistry([{ username: USER, password: PASSWORD }]), clientHome()]);
}, 180_000);
afterAll(async () => {
  await Promise.all([engine?.stop(), registry?.stop(), home?.cleanup()]);
}, 60_000);

async function put(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, '\t')}\n`, { mode: 0o600 });
}

// docker-py's own config lookup (Debian's python3-docker): credsStore, then auths.
const DOCKER_PY_RESOLVE = `
import json, sys
from docker import auth
print(json.dumps(auth.load_config().resolve_authconfig(sys.argv[1])))
`;

describe.skipIf(missing !== '' && !process.env.CI)('docker CLI and engine through docker-credential-berth', { timeout: 300_000 }, () => {
  it('docker login, push, pull and logout go through berth; config.json holds no secret', async () => {
    const docker = (args: string[], stdin?: string) => engine!.exec(args, { env: home!.env, stdin });
    const ok = async (args: string[], stdin?: string) => {
      const result = await docker(args, stdin);
      expect(result.code, `docker ${args.join(' ')}\n${result.stdout}${result.stderr}`).toBe(0);
      return result;
    };
    const host = registry!.host;
    const image = `${host}/team/hello:v1`;

    expect((await home!.berth(['configure', '--docker-only'])).code).toBe(0);
    const login = await ok(['login', host, '-u', USER, '--password-stdin'], `${PASSWORD}\n`);
    expect(login.stdout).toContain('Login Succeeded');
    expect(login.stdout + login.stderr).not.toMatch(/stored unencrypted/i);
    const config = await readFile(join(home!.dir, '.docker/config.json'), 'utf8');
    expect(JSON.parse(config).credsStore).toBe('berth');
    expect(config).not.toContain(PASSWORD);
    expect(config).not.toContain(Buffer.from(`${USER}:${PASSWORD}`).toString('base64'));

    await ok(['tag', await engine!.baseImage(), image]);
    await ok(['push', image]);
    await ok(['rmi', image]);
    await ok(['pull', image]);
    expect(await home!.helperCalls()).toEqual(expect.arrayContaining(['store', 'get']));

    await ok(['logout', host]);
    expect(await home!.helperCalls()).toContain('erase');
    await ok(['rmi', image]);
    const refused = await docker(['pull', image]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/unauthorized|no basic auth credentials|authentication required/i);
  });
  it('configure --migrate: plaintext logins move into berth; docker pull, skopeo and docker-py authenticate; no file holds a secret', async () => {
    const user = await clientHome();
    try {
      const docker = (args: string[]) => engine!.exec(args, { env: user.env });
      const ok = async (result: Promise<{ code: number | null; stdout: string; stderr: string }>, what: string) => {
        const done = await result;
        expect(done.code, `${what}\n${done.stdout}${done.stderr}`).toBe(0);
        return done;
      };
      const host = registry!.host;
      const image = `${host}/team/migrated:v1`;
      const dockerFile = join(user.dir, '.docker/config.json');
      const authFile = join(user.env.XDG_CONFIG_HOME!, 'containers/auth.json');
      await put(dockerFile, { auths: { [host]: { auth: AUTH } }, proxies: { default: { noProxy: '127.0.0.1' } }, 'x-unknown': [1] });
      await put(authFile, { auths: { [host]: { auth: AUTH } } });
      // What a user has today: docker pushes with the plaintext login.
      await ok(docker(['tag', await engine!.baseImage(), image]), 'tag');
      await ok(docker(['push', image]), 'push');
      await ok(docker(['rmi', image]), 'rmi');

      const migrated = await ok(user.berth(['configure', '--migrate']), 'berth configure --migrate');
      expect(migrated.stdout).toContain(`moved ${host} (${USER})`);
      for (const path of [dockerFile, authFile]) {
        const text = await readFile(path, 'utf8');
        expect(text).not.toContain(AUTH);
        expect(text).not.toContain(PASSWORD);
      }
      expect(JSON.parse(await readFile(dockerFile, 'utf8'))).toEqual({
        auths: { [host]: {} },
        proxies: { default: { noProxy: '127.0.0.1' } },
        'x-unknown': [1],
        credsStore: 'berth',
      });

      await ok(docker(['pull', image]), 'docker pull');
      expect(await user.helperCalls()).toContain('get');
      await ok(user.run('skopeo', ['inspect', '--tls-verify=false', `docker://${image}`], { timeoutMs: 120_000 }), 'skopeo inspect');
      const py = await ok(user.run(TOOLS.debianPython.program, ['-c', DOCKER_PY_RESOLVE, host], { revealsSecret: true }), 'docker-py');
      expect(JSON.parse(py.stdout)).toMatchObject({ Username: USER, Password: PASSWORD });
      for (const run of user.transcript.filter((entry) => !entry.revealsSecret)) expect(run.stdout + run.stderr).not.toContain(PASSWORD);
    } finally {
      await user.cleanup();
    }
  });

  it('switching from credsStore pass: configure imports its entries, unconfigure restores pass, docker login then writes no plaintext', async () => {
    const pass = await createPassStore();
    const user = await clientHome();
    try {
      const env = { ...user.env, GNUPGHOME: pass.env.GNUPGHOME!, PASSWORD_STORE_DIR: pass.env.PASSWORD_STORE_DIR! };
      const berth = (args: string[]) => user.berth(args, { env });
      const dockerFile = join(user.dir, '.docker/config.json');
      const quay = JSON.stringify({ ServerURL: 'quay.io', Username: 'org+robot', Secret: 'quay-pass-secret-7' });
      expect((await dockerCredentialPass(pass, 'store', quay)).code).toBe(0);
      await put(dockerFile, { auths: { 'quay.io': {} }, credsStore: 'pass' });

      const configured = await berth(['configure', '--docker-only']);
      expect(configured.code, configured.stderr).toBe(0);
      expect(configured.stdout).toContain('docker-credential-pass → berth: 1 copied');
      expect(configured.stdout).toContain('credsStore: pass → berth');
      const got = await user.run('docker-credential-berth', ['get'], { stdin: 'quay.io', env, revealsSecret: true });
      expect(got.code, got.stdout).toBe(0);
      expect(JSON.parse(got.stdout)).toMatchObject({ Username: 'org+robot', Secret: 'quay-pass-secret-7' });
      const doctor = await berth(['doctor']);
      expect(doctor.stdout).toContain('berth holds every entry of docker-credential-pass');

      const unconfigured = await berth(['unconfigure', '--docker-only']);
      expect(unconfigured.code, unconfigured.stderr).toBe(0);
      expect(unconfigured.stdout).toContain('credsStore: berth → pass (restored)');
      expect(JSON.parse(await readFile(dockerFile, 'utf8')).credsStore).toBe('pass');

      const login = await engine!.exec(['login', registry!.host, '-u', USER, '--password-stdin'], { env, stdin: `${PASSWORD}\n` });
      expect(login.code, login.stderr).toBe(0);
      const text = await readFile(dockerFile, 'utf8');
      expect(text).not.toContain(AUTH);
      expect(text).not.toContain(PASSWORD);
      const stored = await dockerCredentialPass(pass, 'get', registry!.host);
      expect(JSON.parse(stored.stdout)).toMatchObject({ Username: USER, Secret: PASSWORD });
    } finally {
      await user.cleanup();
      await pass.remove();
    }
  });
});
