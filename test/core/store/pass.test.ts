/**
 * What only the pass store does (the Store contract is in store.test.ts): the pass store against a real `pass` + gpg with a throwaway key, driven through the built helper,
 * and checked both ways against Debian's docker-credential-pass: what one stores, the other reads.
 */
import { mkdir, readdir, symlink, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeServerURL, encodeServerURL } from '../../../core/store/pass.js';
import { PASS_TOOLS, createPassStore, dockerCredentialPass, type PassFixture } from '../../e2e/harness/pass-store.js';
import { credentialsJSON, requireBuiltHelper, runHelper, tempHome, type HelperResult } from '../../e2e/harness/run-berth-helper.js';
import { findProgram, skipUnlessTools, TOOLS } from '../../e2e/harness/tools.js';
import { removeDir, tempDir } from '../../fakes/temp.js';

const execFileAsync = promisify(execFile);
const missing = skipUnlessTools([...PASS_TOOLS, TOOLS.git]);
const SECRET = 'pass-secret-41c2e8';

function expectOneLineError(result: HelperResult, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stdout).toMatch(pattern);
  expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m);
}

function expectNoSecretInStderr(results: HelperResult[], secret: string): void {
  for (const result of results) expect(result.stderr).not.toContain(secret);
}

/** A folder's names, [] when pass removed the folder itself along with its last entry. */
async function names(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [])).sort();
}

const FILE_STORE_ADVICE = /BERTH_STORE=file, or "store": "file" in \S+config\.json/;

describe('folder names (docker-credential-pass: Go base64.URLEncoding of the server URL, padded)', () => {
  it.each([
    ['https://index.docker.io/v1/', 'aHR0cHM6Ly9pbmRleC5kb2NrZXIuaW8vdjEv'],
    ['localhost:5000', 'bG9jYWxob3N0OjUwMDA='],
    ['ghcr.io', 'Z2hjci5pbw=='],
    ['a??>', 'YT8_Pg=='],
    ['??>', 'Pz8-'],
  ])('%s <-> %s', (serverURL, folder) => {
    expect(encodeServerURL(serverURL)).toBe(folder);
    expect(decodeServerURL(folder)).toBe(serverURL);
  });

  it.each([
    ['abc', 'not a whole base64 quantum'],
    ['Z2hjci5pbw', "unpadded: Go's URLEncoding rejects it"],
    ['Pz8+', 'standard alphabet'],
    ['.git', 'not base64 at all'],
    ['', 'empty'],
  ])('%s is not a docker folder name (%s)', (folder) => {
    expect(decodeServerURL(folder)).toBeUndefined();
  });
});

// Each helper run starts pass and gpg: seconds apiece on a loaded machine.
describe.skipIf(missing)('pass store (pass + gpg, docker-credential-pass layout)', { timeout: 180_000 }, () => {
  let fixture: PassFixture;
  let home: Awaited<ReturnType<typeof tempHome>>;
  const env = () => ({ ...home.env, ...fixture.env, HOME: home.dir, BERTH_STORE: 'pass' });
  const helper = (action: string, input?: string) => runHelper(action, { env: env(), input });
  const folders = () => names(join(fixture.storeDir, 'docker-credential-helpers'));

  beforeAll(async () => {
    requireBuiltHelper();
    [fixture, home] = await Promise.all([createPassStore(), tempHome()]);
  }, 180_000);
  afterAll(async () => {
    await Promise.all([fixture?.remove(), home?.remove()]);
  });

  it("reads what docker-credential-pass stored, under docker's and containers/image's spellings", async () => {
    for (const [serverURL, username] of [
      ['https://index.docker.io/v1/', 'hubuser'],
      ['localhost:5000', 'local'],
      ['https://quay.io', 'org+robot'],
    ]) {
      const stored = await dockerCredentialPass(fixture, 'store', credentialsJSON(serverURL!, username!, `${SECRET}-${username}`));
      expect(stored.code).toBe(0);
    }
    const hub = await helper('get', 'docker.io');
    expect(JSON.parse(hub.stdout)).toEqual({ ServerURL: 'docker.io', Username: 'hubuser', Secret: `${SECRET}-hubuser` });
    const local = await helper('get', 'http://localhost:5000/');
    expect(JSON.parse(local.stdout)).toMatchObject({ Username: 'local', Secret: `${SECRET}-local` });
    const quay = await helper('get', 'quay.io');
    expect(JSON.parse(quay.stdout)).toMatchObject({ Username: 'org+robot', Secret: `${SECRET}-org+robot` });
    expect(JSON.parse((await helper('list')).stdout)).toEqual({
      'https://index.docker.io/v1/': 'hubuser',
      'localhost:5000': 'local',
      'quay.io': 'org+robot',
    });
    for (const key of ['docker.io', 'localhost:5000', 'quay.io']) expect((await helper('erase', key)).code).toBe(0);
    expect(await folders()).toEqual([]);
  });

  it("stores where docker-credential-pass finds it, under docker's spellings", async () => {
    expect((await helper('store', credentialsJSON('registry-1.docker.io', 'hubuser', SECRET))).code).toBe(0);
    expect((await helper('store', credentialsJSON('https://localhost:5000/v2/', 'local', `${SECRET}-2`))).code).toBe(0);
    expect(await folders()).toEqual([encodeServerURL('https://index.docker.io/v1/'), encodeServerURL('localhost:5000')].sort());
    const hub = await dockerCredentialPass(fixture, 'get', 'https://index.docker.io/v1/');
    expect(JSON.parse(hub.stdout)).toEqual({ ServerURL: 'https://index.docker.io/v1/', Username: 'hubuser', Secret: SECRET });
    const local = await dockerCredentialPass(fixture, 'get', 'localhost:5000');
    expect(JSON.parse(local.stdout)).toMatchObject({ Username: 'local', Secret: `${SECRET}-2` });
    expect(JSON.parse((await dockerCredentialPass(fixture, 'list')).stdout)).toEqual({
      'https://index.docker.io/v1/': 'hubuser',
      'localhost:5000': 'local',
    });
    await helper('erase', 'docker.io');
    await helper('erase', 'localhost:5000');
  });

  it('a store replaces every other spelling and username of the registry; an erase removes them all', async () => {
    await dockerCredentialPass(fixture, 'store', credentialsJSON('https://ghcr.io', 'old-user', `${SECRET}-old`));
    await dockerCredentialPass(fixture, 'store', credentialsJSON('ghcr.io', 'older-user', `${SECRET}-older`));
    expect((await helper('store', credentialsJSON('ghcr.io', 'new-user', SECRET))).code).toBe(0);
    expect(await folders()).toEqual([encodeServerURL('ghcr.io')]);
    const viaDocker = await dockerCredentialPass(fixture, 'get', 'ghcr.io');
    expect(JSON.parse(viaDocker.stdout)).toMatchObject({ Username: 'new-user', Secret: SECRET });

    await dockerCredentialPass(fixture, 'store', credentialsJSON('https://ghcr.io/', 'other', `${SECRET}-other`));
    expect((await helper('erase', 'ghcr.io')).code).toBe(0);
    expect(await folders()).toEqual([]);
  });

  it("a git-backed store: parallel stores each commit, none fails on git's index lock", async () => {
    const gitStore = await tempDir('berth-pass-git-');
    const gitEnv = {
      ...env(),
      PASSWORD_STORE_DIR: gitStore,
      GIT_AUTHOR_NAME: 'berth test',
      GIT_AUTHOR_EMAIL: 'berth-test@example.invalid',
      GIT_COMMITTER_NAME: 'berth test',
      GIT_COMMITTER_EMAIL: 'berth-test@example.invalid',
    };
    try {
      await execFileAsync('pass', ['init', fixture.fingerprint], { env: gitEnv });
      await execFileAsync('pass', ['git', 'init'], { env: gitEnv });
      const registries = Array.from({ length: 10 }, (_, i) => `git-${i}.example`);
      const results = await Promise.all(
        registries.map((registry) => runHelper('store', { env: gitEnv, input: credentialsJSON(registry, 'user', SECRET) })),
      );
      for (const result of results) expect(result).toMatchObject({ code: 0, stdout: '' });
      const listed = JSON.parse((await runHelper('list', { env: gitEnv })).stdout) as Record<string, string>;
      expect(Object.keys(listed).sort()).toEqual([...registries].sort());
      const { stdout: log } = await execFileAsync('git', ['-C', gitStore, 'log', '--format=%s'], { env: gitEnv });
      for (const registry of registries) expect(log).toContain(`${encodeServerURL(registry)}/user`);
    } finally {
      await removeDir(gitStore);
    }
  }, 300_000);

  it('not initialised: one line naming the pass init command and the file store', async () => {
    const emptyStore = await tempDir('berth-pass-empty-');
    try {
      const result = await runHelper('store', {
        env: { ...env(), PASSWORD_STORE_DIR: emptyStore },
        input: credentialsJSON('ghcr.io', 'octocat', SECRET),
      });
      expectOneLineError(result, /the pass store is not initialised .*run "pass init <your-gpg-key-id>"/);
      expect(result.stdout).toMatch(FILE_STORE_ADVICE);
      expect(await readdir(emptyStore)).toEqual([]);
      expectNoSecretInStderr([result], SECRET);
    } finally {
      await removeDir(emptyStore);
    }
  });

  it('pass not installed: one line naming the package and the file store', async () => {
    const bin = join(home.dir, 'bin-without-pass');
    await mkdir(bin, { recursive: true });
    await symlink(findProgram('gpg') as string, join(bin, 'gpg'));
    const noPass = { ...env(), PATH: bin };
    const stored = await runHelper('store', { env: noPass, input: credentialsJSON('ghcr.io', 'octocat', SECRET) });
    expectOneLineError(stored, /the pass command is not installed .*apt install pass/);
    expect(stored.stdout).toMatch(FILE_STORE_ADVICE);

    expect((await helper('store', credentialsJSON('ghcr.io', 'octocat', SECRET))).code).toBe(0);
    const got = await runHelper('get', { env: noPass, input: 'ghcr.io' });
    expectOneLineError(got, /the pass command is not installed/);
    expect(got.stdout).not.toContain(SECRET);
    expect((await helper('erase', 'ghcr.io')).code).toBe(0);
  });

  it('gpg failure (the secret key is not in the keyring): get says what gpg said, never the secret', async () => {
    expect((await helper('store', credentialsJSON('ghcr.io', 'octocat', SECRET))).code).toBe(0);
    const emptyGnupg = await tempDir('berth-gnupg-');
    try {
      const got = await runHelper('get', { env: { ...env(), GNUPGHOME: emptyGnupg }, input: 'ghcr.io' });
      expectOneLineError(got, /^pass show failed: gpg: decryption failed: No secret key/);
      expect(got.stdout + got.stderr).not.toContain(SECRET);
    } finally {
      await execFileAsync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...env(), GNUPGHOME: emptyGnupg } }).catch(() => undefined);
      await removeDir(emptyGnupg);
      await helper('erase', 'ghcr.io');
    }
  });

  it('gpg failure (store initialised for a key that is not in the keyring): one line from gpg', async () => {
    const otherStore = await tempDir('berth-pass-nokey-');
    try {
      await writeFile(join(otherStore, '.gpg-id'), '0123456789ABCDEF0123456789ABCDEF01234567\n');
      const result = await runHelper('store', {
        env: { ...env(), PASSWORD_STORE_DIR: otherStore },
        input: credentialsJSON('ghcr.io', 'octocat', SECRET),
      });
      expectOneLineError(result, /^pass insert failed: gpg: .*(No public key|skipped)/);
      // No empty folder left behind: docker-credential-pass's list would fail on it.
      expect(await names(join(otherStore, 'docker-credential-helpers'))).toEqual([]);
      expectNoSecretInStderr([result], SECRET);
    } finally {
      await removeDir(otherStore);
    }
  });
});
