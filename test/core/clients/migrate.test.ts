/**
 * `berth configure --migrate` on real-looking client files: several registries, Docker Hub's
 * `https://index.docker.io/v1/`, identity tokens, `credHelpers`, `proxies`, unknown fields, an
 * `auths` entry without a secret, a malformed file beside a good one, a conflict between files.
 * Every secret lands in the store, none stays in a file, every other field is kept, `--dry-run`
 * changes nothing.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../../../core/store/index.js';
import { tempHome, type TempHome } from '../../cli/cli-harness.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');
const SECRETS = ['ghp_ghcrsecret1', 'dckr_pat_hubsecret2', 'quay-robot-secret3', 'idtoken-secret4', 'legacy-secret5', 'runtime-secret6'];

const DOCKER_CONFIG = `{
\t"auths": {
\t\t"ghcr.io": {
\t\t\t"auth": "${b64(`octocat:${SECRETS[0]}`)}"
\t\t},
\t\t"https://index.docker.io/v1/": {
\t\t\t"auth": "${b64(`dora:${SECRETS[1]}`)}",
\t\t\t"email": "dora@example.com"
\t\t},
\t\t"registry.example.com": {
\t\t\t"auth": "${b64('token:')}",
\t\t\t"identitytoken": "${SECRETS[3]}"
\t\t},
\t\t"no-secret.example.com": {}
\t},
\t"credHelpers": {
\t\t"gcr.io": "gcloud"
\t},
\t"proxies": {
\t\t"default": {
\t\t\t"httpProxy": "http://proxy.corp:3128"
\t\t}
\t},
\t"x-future-field": [1, {"nested": null}]
}
`;

const AUTH_JSON = `{
\t"auths": {
\t\t"quay.io": {
\t\t\t"username": "org+robot",
\t\t\t"password": "${SECRETS[2]}"
\t\t},
\t\t"ghcr.io": {
\t\t\t"auth": "${b64(`octocat:${SECRETS[0]}`)}"
\t\t}
\t},
\t"credHelpers": {
\t\t"public.ecr.aws": "ecr-login"
\t}
}
`;

const DOCKERCFG = JSON.stringify({ 'legacy.example.com': { auth: b64(`old:${SECRETS[4]}`), email: 'old@example.com' } }, null, 2);

let home: TempHome;
const paths = () => ({
  docker: join(home.dir, '.docker/config.json'),
  auth: join(home.dir, '.config/containers/auth.json'),
  runtime: join(home.dir, 'run/containers/auth.json'),
  dockercfg: join(home.dir, '.dockercfg'),
});

async function put(path: string, text: string, mode = 0o600): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text, { mode });
}

async function allFiles(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [name, path] of Object.entries(paths())) out[name] = await readFile(path, 'utf8').catch(() => '');
  return out;
}

beforeEach(async () => {
  home = await tempHome({ BERTH_STORE: 'file' }, { helperOnPath: true });
  const p = paths();
  await put(p.docker, DOCKER_CONFIG, 0o644);
  await put(p.auth, AUTH_JSON);
  await put(p.dockercfg, DOCKERCFG);
  await put(p.runtime, '{ "auths": { "runtime.example.com": { "auth": "broken' /* malformed */);
});
afterEach(() => home.cleanup());

describe('berth configure --migrate', () => {
  it('--dry-run prints the diff and changes nothing', async () => {
    const before = await allFiles();
    const result = await home.berth(['configure', '--migrate', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('would move ghcr.io (octocat)');
    expect(result.stdout).toMatch(/^-\t\t\t"auth": /m);
    expect(result.stdout).toContain('+\t"credsStore": "berth"');
    expect(await allFiles()).toEqual(before);
    const store = await openStore('file', { env: home.env });
    expect(await store.list()).toEqual({});
    for (const secret of SECRETS) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('moves every secret into the store, keeps every other field, names the malformed file once', async () => {
    const result = await home.berth(['configure', '--migrate']);
    expect(result.code, result.stderr).toBe(0);
    const p = paths();
    expect(result.stderr.split('\n').filter((line) => line.includes(p.runtime))).toEqual([
      `berth: warning: ${p.runtime} is not a JSON object (line 1); left untouched`,
    ]);
    const store = await openStore('file', { env: home.env });
    expect(await store.get('ghcr.io')).toMatchObject({ username: 'octocat', secret: SECRETS[0] });
    expect(await store.get('https://index.docker.io/v1/')).toMatchObject({ username: 'dora', secret: SECRETS[1] });
    expect(await store.get('quay.io')).toMatchObject({ username: 'org+robot', secret: SECRETS[2] });
    expect(await store.get('registry.example.com')).toMatchObject({ username: '<token>', secret: SECRETS[3] });
    expect(await store.get('legacy.example.com')).toMatchObject({ username: 'old', secret: SECRETS[4] });

    const files = await allFiles();
    for (const name of ['docker', 'auth', 'dockercfg'] as const) {
      for (const secret of SECRETS) expect(files[name]).not.toContain(secret);
      expect(files[name]).not.toMatch(/"(auth|password|identitytoken)"/);
    }
    expect(files.runtime).toBe('{ "auths": { "runtime.example.com": { "auth": "broken');
    const docker = JSON.parse(files.docker!);
    expect(docker).toEqual({
      auths: {
        'ghcr.io': {},
        'https://index.docker.io/v1/': { email: 'dora@example.com' },
        'registry.example.com': {},
        'no-secret.example.com': {},
      },
      credHelpers: { 'gcr.io': 'gcloud' },
      proxies: { default: { httpProxy: 'http://proxy.corp:3128' } },
      'x-future-field': [1, { nested: null }],
      credsStore: 'berth',
    });
    expect((await stat(p.docker)).mode & 0o777).toBe(0o644);
    const auth = JSON.parse(files.auth!);
    expect(auth.auths).toEqual({});
    expect(auth.credHelpers).toMatchObject({ 'public.ecr.aws': 'ecr-login', 'quay.io': 'berth', 'ghcr.io': 'berth', 'docker.io': 'berth' });
    expect(JSON.parse(files.dockercfg!)).toEqual({ 'legacy.example.com': { email: 'old@example.com' } });
    for (const secret of SECRETS) expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('a registry with different secrets in two files is reported and left in both', async () => {
    await put(paths().auth, AUTH_JSON.replace(b64(`octocat:${SECRETS[0]}`), b64('octocat:another-secret')));
    const result = await home.berth(['configure', '--migrate']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain('berth: warning: ghcr.io has different logins in');
    const store = await openStore('file', { env: home.env });
    expect(await store.get('ghcr.io')).toBeUndefined();
    const files = await allFiles();
    expect(files.docker).toContain(b64(`octocat:${SECRETS[0]}`));
    expect(files.auth).toContain(b64('octocat:another-secret'));
    expect(files.auth).not.toContain(SECRETS[2]);
  });

  it('a login berth already holds with another secret is left in the file', async () => {
    const store = await openStore('file', { env: home.env });
    await store.set('quay.io', { serverURL: 'quay.io', username: 'org+robot', secret: 'newer' });
    const result = await home.berth(['configure', '--migrate']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("quay.io: berth's file store already holds another login (org+robot)");
    expect(await readFile(paths().auth, 'utf8')).toContain(SECRETS[2]);
    expect((await store.get('quay.io'))?.secret).toBe('newer');
  });

  it('berth doctor lists each plaintext login (and DOCKER_AUTH_CONFIG) with the fix, and none after the move', async () => {
    const env = home.env as Record<string, string>;
    env.DOCKER_AUTH_CONFIG = JSON.stringify({ auths: { 'ci.example.com': { auth: b64('ci:ci-secret') } } });
    const before = await home.berth(['doctor']);
    const p = paths();
    expect(before.stdout).toContain(`${p.docker}: ghcr.io holds a plaintext login (octocat)`);
    expect(before.stdout).toContain(`${p.auth}: quay.io holds a plaintext login (org+robot)`);
    expect(before.stdout).toContain(`${p.dockercfg}: legacy.example.com holds a plaintext login (old)`);
    expect(before.stdout).toContain(`${p.runtime} is not a JSON object (line 1); left untouched`);
    expect(before.stdout).toContain('DOCKER_AUTH_CONFIG holds plaintext logins for ci.example.com');
    expect(before.stdout).toMatch(/hint: run: berth configure --migrate/);
    for (const secret of [...SECRETS, 'ci-secret']) expect(before.stdout + before.stderr).not.toContain(secret);
    delete env.DOCKER_AUTH_CONFIG;
    expect((await home.berth(['configure', '--migrate'])).code).toBe(0);
    const after = await home.berth(['doctor']);
    expect(after.stdout).not.toContain('holds a plaintext login');
  });
});
