/**
 * Real clients against a real registry, with credentials coming only from docker-credential-berth:
 * `berth login` + `berth configure` (either order), then skopeo (containers/image reading
 * auth.json's credHelpers) pushes and inspects an image; a wrong password makes skopeo fail.
 * docker-py's credential store and its default config lookup talk to the same helper. Afterwards no
 * secret appears in any output but a `get`'s, and every file holding one is 0600.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { clientHome, type ClientHome } from './harness/clients.js';
import { makeOciImage } from './harness/image.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, requireTools, TOOLS } from './harness/tools.js';

const USER = 'alice';
const PASSWORD = 'pw-e2e-Zq8vT3kP';
const WRONG_PASSWORD = 'pw-wrong-Hx4mR7aL';
const SECRETS = [PASSWORD, WRONG_PASSWORD];
const NEEDED = [TOOLS.registry, TOOLS.htpasswd, TOOLS.skopeo];

let registry: Registry | undefined;
const homes: ClientHome[] = [];

beforeAll(async () => {
  if (missingTools(NEEDED) === '') registry = await startRegistry([{ username: USER, password: PASSWORD }]);
});
afterAll(async () => {
  await registry?.stop();
});
afterEach(async () => {
  for (const home of homes.splice(0)) await home.cleanup();
});

async function newHome(): Promise<ClientHome> {
  const home = await clientHome();
  homes.push(home);
  return home;
}

async function ok(result: Promise<{ code: number | null; stdout: string; stderr: string; command: string }>) {
  const done = await result;
  expect(done.code, `${done.command}\n${done.stdout}${done.stderr}`).toBe(0);
  return done;
}

const skopeo = (home: ClientHome, args: string[]) => home.run('skopeo', args, { timeoutMs: 120_000 });

/** auth.json may only send the registry to berth: no inline credentials anywhere. */
async function expectOnlyCredHelpers(home: ClientHome, host: string): Promise<void> {
  const authJson = JSON.parse(await readFile(join(home.env.XDG_CONFIG_HOME!, 'containers/auth.json'), 'utf8'));
  expect(authJson.credHelpers?.[host]).toBe('berth');
  expect(Object.keys(authJson.auths ?? {})).toEqual([]);
  const docker = JSON.parse(await readFile(join(home.dir, '.docker/config.json'), 'utf8'));
  expect(Object.keys(docker.auths ?? {})).toEqual([]);
}

/** Every secret-bearing output is one the test asked for; everything else is clean. */
function expectNoSecretLeaked(home: ClientHome): void {
  for (const run of home.transcript) {
    if (run.revealsSecret) continue;
    for (const secret of SECRETS) {
      expect(run.stdout + run.stderr, `secret in the output of: ${run.command}`).not.toContain(secret);
      expect(run.command, 'secret on a command line').not.toContain(secret);
    }
  }
}

async function expectPrivateFiles(dir: string): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
  expect(files.length).toBeGreaterThan(0);
  for (const file of files) expect(((await stat(file)).mode & 0o777).toString(8), file).toBe('600');
  expect(((await stat(dir)).mode & 0o777).toString(8), dir).toBe('700');
}

// Each test starts a dozen node and skopeo processes: allow for a loaded 2-core machine.
const SLOW = { timeout: 240_000 };

describe('skopeo through docker-credential-berth', SLOW, () => {
  it('login then configure: push and inspect with credentials only from the helper', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const home = await newHome();
    const host = registry!.host;
    await ok(home.berth(['login', host, '-u', USER, '--password-stdin'], { stdin: `${PASSWORD}\n` }));
    await ok(home.berth(['configure']));
    await expectOnlyCredHelpers(home, host);

    const image = await makeOciImage(home.dir);
    await ok(skopeo(home, ['copy', '--insecure-policy', '--dest-tls-verify=false', image, `docker://${host}/berth/hello:v1`]));
    const inspected = await ok(skopeo(home, ['inspect', '--tls-verify=false', `docker://${host}/berth/hello:v1`]));
    expect(JSON.parse(inspected.stdout)).toMatchObject({ Name: `${host}/berth/hello`, RepoTags: ['v1'] });
    expect(await home.helperCalls()).toContain('get');

    const doctor = await home.berth(['doctor']);
    expect(doctor.stdout).toMatch(/^ok +store +file \(the default\), 1 entry$/m);
    expect(doctor.stdout).toMatch(new RegExp(`^ok +containers .*credHelpers send ${host.replace(/\./g, '\\.')} to berth$`, 'm'));
    expect(doctor.code).toBe(0);

    await expectPrivateFiles(join(home.env.XDG_DATA_HOME!, 'berth'));
    expectNoSecretLeaked(home);
  });

  it('configure then login: the login adds the registry to auth.json', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const home = await newHome();
    const host = registry!.host;
    await ok(home.berth(['configure']));
    await ok(home.berth(['login', host, '-u', USER, '--password-stdin'], { stdin: PASSWORD }));
    await expectOnlyCredHelpers(home, host);
    const image = await makeOciImage(home.dir, 'v2');
    await ok(skopeo(home, ['copy', '--insecure-policy', '--dest-tls-verify=false', image, `docker://${host}/berth/hello:v2`]));
    await ok(skopeo(home, ['inspect', '--tls-verify=false', `docker://${host}/berth/hello:v2`]));
    expectNoSecretLeaked(home);
  });

  it('a wrong password in berth makes skopeo fail, and nothing leaks', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const home = await newHome();
    const host = registry!.host;
    // berth login refuses it (test/e2e/login-verify.test.ts); stored unchecked, clients are refused
    await ok(home.berth(['login', host, '-u', USER, '--password-stdin', '--no-verify'], { stdin: WRONG_PASSWORD }));
    await ok(home.berth(['configure']));
    const result = await skopeo(home, ['inspect', '--tls-verify=false', `docker://${host}/berth/hello:v1`]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/unauthorized|authentication required/i);
    expect(await home.helperCalls()).toContain('get');
    expectNoSecretLeaked(home);
  });
});

// Debian's python with python3-docker, not whatever python is first on PATH.
const DOCKER_PY = `
import json, os, sys
from docker import auth, credentials
host = sys.argv[1]
step = sys.argv[2]
store = credentials.Store('berth', environment=dict(os.environ))
if step == 'store':
    store.store(host, os.environ['E2E_USER'], sys.stdin.read())
elif step == 'get':
    print(json.dumps(store.get(host)))
elif step == 'list':
    print(json.dumps(store.list()))
elif step == 'erase':
    store.erase(host)
elif step == 'resolve':
    print(json.dumps(auth.load_config().resolve_authconfig(host)))
`;

describe('docker-py', SLOW, () => {
  it('credentials.Store("berth") stores, gets, lists, erases; resolve_authconfig uses credsStore', async (ctx) => {
    requireTools([TOOLS.debianPython], ctx.skip);
    const home = await newHome();
    const host = 'registry.example.test:5000';
    const py = (step: string, stdin = '', revealsSecret = false) =>
      home.run(TOOLS.debianPython.program, ['-c', DOCKER_PY, host, step], { stdin, revealsSecret, env: { E2E_USER: USER } });

    await ok(py('store', PASSWORD));
    const got = await ok(py('get', '', true));
    expect(JSON.parse(got.stdout)).toEqual({ ServerURL: host, Username: USER, Secret: PASSWORD });
    const listed = await ok(py('list'));
    expect(JSON.parse(listed.stdout)).toEqual({ [host]: USER });

    await ok(home.berth(['configure', '--docker-only']));
    const resolved = await ok(py('resolve', '', true));
    expect(JSON.parse(resolved.stdout)).toMatchObject({ Username: USER, Password: PASSWORD, ServerAddress: host });

    await ok(py('erase'));
    expect(JSON.parse((await ok(py('list'))).stdout)).toEqual({});
    await expectPrivateFiles(join(home.env.XDG_DATA_HOME!, 'berth'));
    expectNoSecretLeaked(home);
  });
});
