/**
 * The Docker CLI and the real engine, with credentials only from docker-credential-berth: `berth
 * configure` sets `credsStore`, `docker login` stores through the helper, push and pull authenticate
 * with what berth returns, `docker logout` erases, and a pull after that is refused by the registry.
 * config.json never holds a secret.
 */
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientHome, type ClientHome } from './harness/clients.js';
import { type DockerEngine, DOCKER_TOOLS, startDockerd } from './harness/docker.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, TOOLS } from './harness/tools.js';

const ROOT = resolve(import.meta.dirname, '../..');
const USER = 'dora';
const PASSWORD = 'pw-docker-e2e-Vb7nQ2xL';
const NEEDED = [...DOCKER_TOOLS, TOOLS.registry, TOOLS.htpasswd];

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
});
