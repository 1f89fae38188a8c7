/**
 * Editing docker's config.json and containers/image's auth.json: which key each client looks up,
 * formatting kept, broken files refused, and `addRegistryIfConfigured` in each starting state.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  addRegistryIfConfigured,
  applyChange,
  clientKey,
  containersPrimaryAuthFile,
  planConfigure,
  planUnconfigure,
  readClientFile,
  shadowedByPrimaryAuthFile,
  type ClientFile,
} from '../../../core/clients/config-files.js';
import type { Env } from '../../../core/paths.js';
import { DOCKER_HUB_KEY } from '../../../core/registry-host.js';
import { tempDir } from '../../fakes/temp.js';

let dir: string;
let env: Env;
beforeEach(async () => {
  dir = await tempDir('berth-client-config-');
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, '.config'), XDG_RUNTIME_DIR: join(dir, 'run') };
});

const dockerPath = () => join(dir, '.docker/config.json');
const authPath = () => join(dir, '.config/containers/auth.json');

async function put(path: string, text: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, text);
}

const fileOf = (client: 'docker' | 'containers', text: string): ClientFile => ({
  client,
  path: `/x/${client}.json`,
  realPath: `/x/${client}.json`,
  exists: text !== '',
  text,
  mode: 0o600,
  json: text.trim() === '' ? {} : JSON.parse(text),
});

describe('clientKey: what each client asks the helper for', () => {
  it.each([
    ['docker', DOCKER_HUB_KEY, DOCKER_HUB_KEY],
    ['containers', DOCKER_HUB_KEY, 'docker.io'],
    ['docker', 'ghcr.io', 'ghcr.io'],
    ['containers', 'localhost:5000', 'localhost:5000'],
  ] as const)('%s, %s → %s', (client, key, expected) => {
    expect(clientKey(client, key)).toBe(expected);
  });
});

describe('planConfigure', () => {
  it('keeps two-space indentation and CRLF line ends', () => {
    const text = '{\r\n  "auths": {}\r\n}\r\n';
    const change = planConfigure(fileOf('containers', text), { registryKeys: ['ghcr.io'], credsStore: false });
    expect(change.after).toBe('{\r\n  "auths": {},\r\n  "credHelpers": {\r\n    "ghcr.io": "berth"\r\n  }\r\n}\r\n');
  });

  it('never writes credsStore to auth.json (containers/image ignores it)', () => {
    const change = planConfigure(fileOf('containers', ''), { registryKeys: [], credsStore: true });
    expect(change.changes).toEqual([]);
  });

  it('replaces another helper for the same registry and says so', () => {
    const change = planConfigure(fileOf('docker', '{"credHelpers": {"ghcr.io": "gh"}}'), { registryKeys: ['ghcr.io'], credsStore: false });
    expect(change.changes).toEqual(['credHelpers.ghcr.io: gh → berth']);
    expect(JSON.parse(change.after)).toEqual({ credHelpers: { 'ghcr.io': 'berth' } });
  });

  it('points out inline logins berth now answers for, not those another helper keeps', () => {
    const text = JSON.stringify({
      auths: { 'https://ghcr.io': { auth: 'dTpw' }, 'gcr.io': { auth: 'dTpw' }, 'quay.io': {}, 'a.io': { identitytoken: 't' } },
      credHelpers: { 'gcr.io': 'gcloud' },
    });
    const change = planConfigure(fileOf('docker', text), { registryKeys: [], credsStore: true, known: ['a.io'] });
    expect(change.warnings).toEqual([
      '/x/docker.json has an inline login for https://ghcr.io under "auths" that is no longer used, and berth has none (run: berth login ghcr.io)',
      '/x/docker.json still holds an inline login for a.io under "auths"; berth\'s is used now and the old one is left in the file',
    ]);
  });

  it('replaces another credsStore and says so', () => {
    const change = planConfigure(fileOf('docker', '{"credsStore": "desktop"}'), { registryKeys: [], credsStore: true });
    expect(change.changes).toEqual(['credsStore: desktop → berth']);
  });
});

describe('planUnconfigure', () => {
  it('removes only entries naming berth', () => {
    const text = '{\n\t"credsStore": "berth",\n\t"credHelpers": {\n\t\t"a.io": "berth",\n\t\t"gcr.io": "gcloud"\n\t},\n\t"auths": {}\n}\n';
    const change = planUnconfigure(fileOf('docker', text));
    expect(JSON.parse(change.after)).toEqual({ credHelpers: { 'gcr.io': 'gcloud' }, auths: {} });
  });

  it('leaves a missing file missing', () => {
    expect(planUnconfigure(fileOf('docker', '')).changes).toEqual([]);
  });
});

describe('readClientFile refuses what it cannot edit safely', () => {
  it.each([
    ['not JSON', '{"auths": ', /:1:11: not valid JSON \(expected a value\); berth changes nothing in it$/],
    ['an array', '[]', /does not hold a JSON object/],
    ['credHelpers a string', '{"credHelpers": "berth"}', /credHelpers is not an object/],
    ['comments', '{ // hi\n}', /:1:3: not valid JSON \(comments are not allowed in JSON\)/],
  ])('%s', async (_, text, message) => {
    await put(dockerPath(), text);
    await expect(readClientFile(env, 'docker')).rejects.toThrow(message);
  });

  it('treats an empty file as an empty object', async () => {
    await put(authPath(), '\n');
    expect((await readClientFile(env, 'containers')).json).toEqual({});
  });

  it('follows $DOCKER_CONFIG and $REGISTRY_AUTH_FILE', async () => {
    const custom = { ...env, DOCKER_CONFIG: join(dir, 'dc'), REGISTRY_AUTH_FILE: join(dir, 'ra.json') };
    expect((await readClientFile(custom, 'docker')).path).toBe(join(dir, 'dc/config.json'));
    expect((await readClientFile(custom, 'containers')).path).toBe(join(dir, 'ra.json'));
  });
});

describe('applyChange', () => {
  it('writes nothing over a file someone rewrote since it was read (a concurrent docker login)', async () => {
    await put(dockerPath(), '{}\n');
    const change = planConfigure(await readClientFile(env, 'docker'), { registryKeys: [], credsStore: true });
    await writeFile(dockerPath(), '{"auths": {"new.io": {"auth": "dTpw"}}}\n');
    await expect(applyChange(change)).rejects.toThrow(`${dockerPath()} changed while berth was editing it; nothing was written`);
    expect(await readFile(dockerPath(), 'utf8')).toBe('{"auths": {"new.io": {"auth": "dTpw"}}}\n');
  });

  it('keeps the mode of an existing file', async () => {
    await put(dockerPath(), '{}\n');
    await (await import('node:fs/promises')).chmod(dockerPath(), 0o640);
    await applyChange(planConfigure(await readClientFile(env, 'docker'), { registryKeys: [], credsStore: true }));
    expect((await stat(dockerPath())).mode & 0o777).toBe(0o640);
  });
});

describe('addRegistryIfConfigured (after berth login)', () => {
  it('creates nothing when no file names berth', async () => {
    expect(await addRegistryIfConfigured(env, 'ghcr.io')).toEqual([]);
    await expect(stat(dockerPath())).rejects.toThrow(/ENOENT/);
    await expect(stat(authPath())).rejects.toThrow(/ENOENT/);
  });

  it("with berth as docker's credsStore, adds the registry to auth.json only", async () => {
    await put(dockerPath(), '{\n\t"credsStore": "berth"\n}\n');
    await addRegistryIfConfigured(env, DOCKER_HUB_KEY);
    expect(await readFile(dockerPath(), 'utf8')).toBe('{\n\t"credsStore": "berth"\n}\n');
    expect(JSON.parse(await readFile(authPath(), 'utf8'))).toEqual({ credHelpers: { 'docker.io': 'berth' } });
    expect((await stat(authPath())).mode & 0o777).toBe(0o600);
  });

  it("names no registry for docker's Hub OAuth tokens, which sit beside the Hub login", async () => {
    const text = '{"credHelpers": {"a.io": "berth"}}';
    await put(authPath(), text);
    expect(await addRegistryIfConfigured(env, `${DOCKER_HUB_KEY}refresh-token`)).toEqual([]);
    expect(await readFile(authPath(), 'utf8')).toBe(text);
  });

  it('adds to per-registry credHelpers in both files', async () => {
    await put(dockerPath(), '{"credHelpers": {"a.io": "berth", "gcr.io": "gcloud"}}');
    await put(authPath(), '{"credHelpers": {"a.io": "berth"}}');
    await addRegistryIfConfigured(env, 'b.io');
    expect(JSON.parse(await readFile(dockerPath(), 'utf8')).credHelpers).toEqual({ 'a.io': 'berth', 'gcr.io': 'gcloud', 'b.io': 'berth' });
    expect(JSON.parse(await readFile(authPath(), 'utf8')).credHelpers).toEqual({ 'a.io': 'berth', 'b.io': 'berth' });
  });

  it('leaves an entry naming another helper alone and warns', async () => {
    const text = '{"credHelpers": {"a.io": "berth", "b.io": "ecr-login"}}';
    await put(authPath(), text);
    const warnings = await addRegistryIfConfigured(env, 'b.io');
    expect(warnings).toEqual([`${authPath()} sends b.io to docker-credential-ecr-login; run: berth configure --registry b.io`]);
    expect(await readFile(authPath(), 'utf8')).toBe(text);
  });
});

describe('the primary auth file containers/image reads first', () => {
  it('is $XDG_RUNTIME_DIR/containers/auth.json, /run/containers/UID/auth.json without it, none with $REGISTRY_AUTH_FILE', () => {
    expect(containersPrimaryAuthFile(env)).toBe(join(dir, 'run/containers/auth.json'));
    expect(containersPrimaryAuthFile({ HOME: dir })).toMatch(/^\/run\/containers\/\d+\/auth\.json$/);
    expect(containersPrimaryAuthFile({ ...env, REGISTRY_AUTH_FILE: '/x.json' })).toBeUndefined();
  });

  it('reports registries whose podman login shadows berth, never the credential', async () => {
    await put(
      join(dir, 'run/containers/auth.json'),
      JSON.stringify({ auths: { 'docker.io': { auth: 'dTpw' }, 'c.io': { auth: 'dTpw' } } }),
    );
    const found = await shadowedByPrimaryAuthFile(env, [DOCKER_HUB_KEY, 'ghcr.io']);
    expect(found).toEqual([
      `${join(dir, 'run/containers/auth.json')} holds a login for docker.io that containers/image uses before berth's (run: podman logout docker.io)`,
    ]);
  });
});
