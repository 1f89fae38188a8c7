/**
 * `berth configure` / `unconfigure` on real-looking client files: every other field survives with
 * its key order, `--dry-run` touches nothing, modes are kept (0600 for files berth creates).
 */
import { chmod, lstat, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cliHome, type CliHome } from '../../e2e/harness/cli.js';

// What `docker login` + Docker Desktop leave behind (tab-indented, docker's own marshalling).
const DOCKER_CONFIG = `{
\t"auths": {
\t\t"ghcr.io": {
\t\t\t"auth": "b2N0b2NhdDpnaHBfc2VjcmV0dmFsdWU="
\t\t},
\t\t"https://index.docker.io/v1/": {}
\t},
\t"credHelpers": {
\t\t"gcr.io": "gcloud",
\t\t"us-docker.pkg.dev": "gcloud"
\t},
\t"HttpHeaders": {
\t\t"User-Agent": "Docker-Client/24.0.7 (linux)"
\t},
\t"proxies": {
\t\t"default": {
\t\t\t"httpProxy": "http://proxy.corp:3128",
\t\t\t"noProxy": "localhost,127.0.0.1"
\t\t}
\t},
\t"currentContext": "desktop-linux",
\t"plugins": {
\t\t"-x-cli-hints": {
\t\t\t"enabled": "true"
\t\t}
\t},
\t"x-future-field": [
\t\t1,
\t\t{
\t\t\t"nested": null
\t\t}
\t]
}
`;

// What `podman login` writes, plus a helper someone set by hand.
const AUTH_JSON = `{
\t"auths": {
\t\t"quay.io": {
\t\t\t"auth": "cm9ib3Q6cXVheXNlY3JldA=="
\t\t}
\t},
\t"credHelpers": {
\t\t"public.ecr.aws": "ecr-login"
\t}
}
`;

const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const BERTH_CONFIG = JSON.stringify({
  registries: [
    { name: 'ecr', provider: 'ecr', host: ECR_HOST },
    { name: 'hub', provider: 'static', host: 'docker.io' },
  ],
});

let home: CliHome;
let dockerFile: string;
let authFile: string;
/** The registries.conf drop-in that sends podman, buildah and skopeo to berth for every registry. */
let dropIn: string;
const DROP_IN_LINE = 'credential-helpers = ["berth", "containers-auth.json"]';

beforeEach(async () => {
  home = await cliHome({}, { helperOnPath: true });
  dockerFile = join(home.dir, '.docker/config.json');
  authFile = join(home.dir, '.config/containers/auth.json');
  dropIn = join(home.dir, '.config/containers/registries.conf.d/50-berth.conf');
  const configFile = join(home.dir, '.config/berth/config.json');
  await mkdir(dirname(configFile), { recursive: true });
  await writeFile(configFile, BERTH_CONFIG);
});

async function writeClientFiles(): Promise<void> {
  await mkdir(dirname(dockerFile), { recursive: true });
  await mkdir(dirname(authFile), { recursive: true });
  await writeFile(dockerFile, DOCKER_CONFIG, { mode: 0o644 });
  await chmod(dockerFile, 0o644);
  await writeFile(authFile, AUTH_JSON, { mode: 0o600 });
}

const json = async (path: string) => JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
const mode = async (path: string) => (await stat(path)).mode & 0o777;

/**
 * The lines of `after` that are not in `before`, in order; asserts nothing was removed. A comma that
 * a new last property adds to the line before it does not count as a change.
 */
function addedLines(before: string, after: string): string[] {
  const lines = (text: string) => text.split('\n').map((line) => line.replace(/,$/, ''));
  const remaining = lines(after);
  for (const line of lines(before)) {
    const index = remaining.indexOf(line);
    expect(index, `line kept: ${line}`).toBeGreaterThanOrEqual(0);
    remaining.splice(index, 1);
  }
  return remaining;
}

describe('berth configure', () => {
  it("adds credsStore to docker's file and only inserts lines", async () => {
    await writeClientFiles();
    const result = await home.berth(['configure']);
    expect(result.code).toBe(0);
    // docker asks the helper, not "auths", once credsStore is set: the inline ghcr.io login goes unused.
    expect(result.stderr).toBe(
      `berth: warning: ${dockerFile} has an inline login for ghcr.io under "auths" that is no longer used, and berth has none (run: berth login ghcr.io)\n`,
    );
    const after = await readFile(dockerFile, 'utf8');
    expect(addedLines(DOCKER_CONFIG, after)).toEqual(['\t"credsStore": "berth"']);
    const parsed = await json(dockerFile);
    expect(Object.keys(parsed)).toEqual([...Object.keys(JSON.parse(DOCKER_CONFIG)), 'credsStore']);
    expect({ ...parsed, credsStore: undefined }).toEqual({ ...JSON.parse(DOCKER_CONFIG), credsStore: undefined });
    expect(await mode(dockerFile)).toBe(0o644);
  });

  it('writes a credHelpers entry per known registry to auth.json, Docker Hub as docker.io', async () => {
    await writeClientFiles();
    const result = await home.berth(['configure']);
    expect(result.code).toBe(0);
    const parsed = await json(authFile);
    expect(parsed).toEqual({
      auths: { 'quay.io': { auth: 'cm9ib3Q6cXVheXNlY3JldA==' } },
      credHelpers: { 'public.ecr.aws': 'ecr-login', [ECR_HOST]: 'berth', 'docker.io': 'berth' },
    });
    expect(await mode(authFile)).toBe(0o600);
    expect(result.stdout).toContain(`credHelpers.${ECR_HOST}: berth`);
    expect(result.stdout).toContain('credHelpers.docker.io: berth');
  });

  it('creates missing files 0600 in 0700 directories', async () => {
    const result = await home.berth(['configure']);
    expect(result.code).toBe(0);
    expect(await json(dockerFile)).toEqual({ credsStore: 'berth' });
    expect(await mode(dockerFile)).toBe(0o600);
    expect(await mode(authFile)).toBe(0o600);
    expect(await mode(dirname(authFile))).toBe(0o700);
  });

  it('--dry-run prints a diff, masks inline passwords and changes nothing', async () => {
    await writeClientFiles();
    const before = await Promise.all([stat(dockerFile), stat(authFile)]);
    const result = await home.berth(['configure', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--- ${dockerFile}\n+++ ${dockerFile} (after berth configure)\n`);
    expect(result.stdout).toContain('\n+\t"credsStore": "berth"\n');
    expect(result.stdout).toContain(`+\t\t"${ECR_HOST}": "berth"`);
    expect(result.stdout + result.stderr).not.toMatch(/cm9ib3Q6cXVheXNlY3JldA|b2N0b2NhdDpnaHBf/);
    expect(await readFile(dockerFile, 'utf8')).toBe(DOCKER_CONFIG);
    expect(await readFile(authFile, 'utf8')).toBe(AUTH_JSON);
    const after = await Promise.all([stat(dockerFile), stat(authFile)]);
    expect(after.map((s) => s.mtimeMs)).toEqual(before.map((s) => s.mtimeMs));
  });

  it('--dry-run with no files creates none', async () => {
    const result = await home.berth(['configure', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--- /dev/null');
    expect(result.stdout).toContain(`+${DROP_IN_LINE}`);
    await expect(stat(dockerFile)).rejects.toThrow(/ENOENT/);
    await expect(stat(authFile)).rejects.toThrow(/ENOENT/);
    await expect(stat(dropIn)).rejects.toThrow(/ENOENT/);
  });

  it('writes the registries.conf drop-in for every other registry; not with --registry or --docker-only', async () => {
    const result = await home.berth(['configure']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${dropIn} (podman, buildah and skopeo, for every registry):\n  ${DROP_IN_LINE}\n`);
    expect((await readFile(dropIn, 'utf8')).split('\n')).toContain(DROP_IN_LINE);
    expect(await mode(dropIn)).toBe(0o644);
    for (const only of [['--registry', 'ghcr.io'], ['--docker-only']]) {
      const other = await cliHome({}, { helperOnPath: true });
      expect((await other.berth(['configure', ...only])).code).toBe(0);
      await expect(stat(join(other.dir, '.config/containers/registries.conf.d/50-berth.conf'))).rejects.toThrow(/ENOENT/);
    }
  });

  it('leaves a drop-in of that name it did not write as it is', async () => {
    await mkdir(dirname(dropIn), { recursive: true });
    await writeFile(dropIn, 'credential-helpers = ["secretservice"]\n');
    const result = await home.berth(['configure']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`berth: warning: ${dropIn} was not written by berth; left as it is`);
    expect(await readFile(dropIn, 'utf8')).toBe('credential-helpers = ["secretservice"]\n');
    expect((await home.berth(['unconfigure'])).code).toBe(0);
    expect(await readFile(dropIn, 'utf8')).toBe('credential-helpers = ["secretservice"]\n');
  });

  it('a second run changes nothing', async () => {
    await writeClientFiles();
    await home.berth(['configure']);
    const first = await Promise.all([readFile(dockerFile, 'utf8'), readFile(authFile, 'utf8'), stat(dockerFile)]);
    const again = await home.berth(['configure']);
    expect(again.stdout.match(/nothing to change/g)).toHaveLength(3);
    expect(await readFile(dockerFile, 'utf8')).toBe(first[0]);
    expect(await readFile(authFile, 'utf8')).toBe(first[1]);
    expect((await stat(dockerFile)).mtimeMs).toBe(first[2].mtimeMs);
  });

  it('--registry writes per-registry credHelpers and no credsStore', async () => {
    await writeClientFiles();
    const result = await home.berth(['configure', '--registry', 'https://ghcr.io', '--registry', 'index.docker.io']);
    expect(result.code).toBe(0);
    const docker = await json(dockerFile);
    expect(docker.credsStore).toBeUndefined();
    expect(docker.credHelpers).toEqual({
      'gcr.io': 'gcloud',
      'us-docker.pkg.dev': 'gcloud',
      'ghcr.io': 'berth',
      'https://index.docker.io/v1/': 'berth',
    });
    expect((await json(authFile)).credHelpers).toEqual({ 'public.ecr.aws': 'ecr-login', 'ghcr.io': 'berth', 'docker.io': 'berth' });
    expect(result.stderr).toContain(
      `${dockerFile} has an inline login for ghcr.io under "auths" that is no longer used, and berth has none`,
    );
  });

  it('after berth login, an inline login is only pointed out as left behind, never printed', async () => {
    await writeClientFiles();
    expect((await home.berth(['login', 'ghcr.io', '-u', 'octocat', '--password-stdin'], 'ghp_new_s3cret')).code).toBe(0);
    const result = await home.berth(['configure']);
    expect(result.stderr).toBe(
      `berth: warning: ${dockerFile} still holds an inline login for ghcr.io under "auths"; berth's is used now and the old one is left in the file\n`,
    );
    expect((await json(authFile)).credHelpers).toMatchObject({ 'ghcr.io': 'berth' });
    expect(result.stdout + result.stderr).not.toMatch(/b2N0b2NhdDpnaHBf|ghp_new_s3cret/);
  });

  it('--docker-only leaves auth.json alone', async () => {
    await writeClientFiles();
    expect((await home.berth(['configure', '--docker-only'])).code).toBe(0);
    expect(await readFile(authFile, 'utf8')).toBe(AUTH_JSON);
    expect((await json(dockerFile)).credsStore).toBe('berth');
  });

  it('keeps a symlinked config file a symlink', async () => {
    await writeClientFiles();
    const real = join(home.dir, 'dotfiles/docker-config.json');
    await mkdir(dirname(real), { recursive: true });
    await writeFile(real, DOCKER_CONFIG);
    await (await import('node:fs/promises')).unlink(dockerFile);
    await symlink(real, dockerFile);
    expect((await home.berth(['configure', '--docker-only'])).code).toBe(0);
    expect((await lstat(dockerFile)).isSymbolicLink()).toBe(true);
    expect(await readlink(dockerFile)).toBe(real);
    expect((await json(real)).credsStore).toBe('berth');
  });

  it('refuses a file that is not JSON, changing nothing', async () => {
    await writeClientFiles();
    await writeFile(dockerFile, '{"auths": {\n');
    const result = await home.berth(['configure']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`^berth: error: ${dockerFile}:\\d+:\\d+: not valid JSON \\([^)]+\\); berth changes nothing in it\\n`),
    );
    expect(await readFile(dockerFile, 'utf8')).toBe('{"auths": {\n');
  });

  it('rejects --docker-only with --containers-only', async () => {
    const result = await home.berth(['configure', '--docker-only', '--containers-only']);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toBe('berth: error: --docker-only and --containers-only exclude each other\n');
  });

  it('sends the runtime auth file (where podman login writes) to berth too, and names the inline login left there', async () => {
    const runtimeAuth = join(home.dir, 'run/containers/auth.json');
    await mkdir(dirname(runtimeAuth), { recursive: true });
    await writeFile(runtimeAuth, JSON.stringify({ auths: { [ECR_HOST]: { auth: 'eDp5' } } }));
    const result = await home.berth(['configure', '--containers-only']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`${runtimeAuth} (podman login, buildah login, skopeo login):\n  credHelpers.${ECR_HOST}: berth\n`);
    expect(JSON.parse(await readFile(runtimeAuth, 'utf8')).credHelpers).toMatchObject({ [ECR_HOST]: 'berth' });
    expect(result.stderr).toContain(`berth: warning: ${runtimeAuth} still holds an inline login for ${ECR_HOST} under "auths"`);
    expect(result.stderr).not.toContain('eDp5');

    const undone = await home.berth(['unconfigure', '--containers-only']);
    expect(undone.code).toBe(0);
    const after = JSON.parse(await readFile(runtimeAuth, 'utf8'));
    expect(after.auths).toEqual({ [ECR_HOST]: { auth: 'eDp5' } });
    expect(Object.values(after.credHelpers ?? {})).not.toContain('berth');
  });
});

describe('berth configure without the helper installed', () => {
  it('configures and warns that clients will fail until the helper is on PATH', async () => {
    const bare = await cliHome({ PATH: '/nonexistent' });
    const result = await bare.berth(['configure', '--docker-only']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      'berth: warning: docker-credential-berth is not on PATH: clients told to use berth fail until it is (see berth doctor)\n',
    );
  });
});

describe('berth unconfigure', () => {
  it("removes berth's entries and nothing else", async () => {
    await writeClientFiles();
    await home.berth(['configure']);
    const result = await home.berth(['unconfigure']);
    expect(result.code).toBe(0);
    expect(await json(dockerFile)).toEqual(JSON.parse(DOCKER_CONFIG));
    expect(await json(authFile)).toEqual(JSON.parse(AUTH_JSON));
    expect(result.stdout).toContain(`${dropIn} (podman, buildah and skopeo, for every registry):\n  removed\n`);
    await expect(stat(dropIn)).rejects.toThrow(/ENOENT/);
  });

  it('leaves another credsStore alone', async () => {
    await mkdir(dirname(dockerFile), { recursive: true });
    await writeFile(dockerFile, '{\n\t"credsStore": "desktop"\n}\n');
    const result = await home.berth(['unconfigure', '--docker-only']);
    expect(result.stdout).toContain('nothing to change');
    expect(await readFile(dockerFile, 'utf8')).toBe('{\n\t"credsStore": "desktop"\n}\n');
  });
});
