/**
 * The Store contract, run against every backend: `file`, `keychain` (a real gnome-keyring Secret
 * Service on a private D-Bus session bus) and `pass` (real pass and gpg with a throwaway key). Each
 * backend is driven twice: in-process through the `Store` interface, and through the built helper as
 * docker drives it, one process per action. What only one backend does is tested in its own file.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { NOT_FOUND_MESSAGE } from '../../../core/errors.js';
import { DOCKER_HUB_KEY, registryKey } from '../../../core/registry-host.js';
import { openStore, type Store, type StoreName } from '../../../core/store/index.js';
import type { Credential } from '../../../core/credential.js';

/** A credential with the server URL a client would give for it. */
type Credentials = Credential & { serverURL: string };
import type { Env } from '../../../core/paths.js';
import { createPassStore, PASS_TOOLS, type PassFixture } from '../../e2e/harness/pass-store.js';
import { credentialsJSON, requireBuiltHelper, runHelper, type HelperResult } from '../../e2e/harness/run-berth-helper.js';
import { SECRET_SERVICE_TOOLS, startSecretService, type SessionBus } from '../../e2e/harness/secret-service.js';
import { skipUnlessTools } from '../../e2e/harness/tools.js';
import { homeEnv, removeDir } from '../../fakes/temp.js';
import { fixtureDir } from '../../fakes/temp.js';

const SECRET = 'contract-secret-5e1b7c';

interface Backend {
  /** Environment for the store and for helper processes. */
  env: Env;
  stop(): Promise<void>;
}

/** Starts what a backend needs, in a fresh home. */
type Setup = (home: string) => Promise<Backend>;

/**
 * `many`: entries in the many-entries case; `writers`: in-process stores writing at once. pass runs
 * pass and gpg for every write (about a second each on a loaded machine), so it gets fewer; every
 * backend also takes 50 helper processes storing at once.
 */
interface Scale {
  many: number;
  writers: number;
}

const BACKENDS: { name: StoreName; skip: string; scale: Scale; setup: Setup }[] = [
  {
    name: 'file',
    skip: '',
    scale: { many: 60, writers: 50 },
    setup: async (home) => ({ env: homeEnv(home), stop: async () => undefined }),
  },
  {
    name: 'keychain',
    skip: skipUnlessTools(SECRET_SERVICE_TOOLS),
    scale: { many: 60, writers: 50 },
    setup: async (home) => {
      const bus: SessionBus = await startSecretService();
      // The keyring library finds the bus through this process's environment, as in a user's session.
      const previous = process.env.DBUS_SESSION_BUS_ADDRESS;
      process.env.DBUS_SESSION_BUS_ADDRESS = bus.address;
      return {
        env: { ...homeEnv(home), DBUS_SESSION_BUS_ADDRESS: bus.address },
        stop: async () => {
          if (previous === undefined) delete process.env.DBUS_SESSION_BUS_ADDRESS;
          else process.env.DBUS_SESSION_BUS_ADDRESS = previous;
          await bus.stop();
        },
      };
    },
  },
  {
    name: 'pass',
    skip: skipUnlessTools(PASS_TOOLS),
    scale: { many: 20, writers: 10 },
    setup: async (home) => {
      const fixture: PassFixture = await createPassStore();
      return { env: { ...homeEnv(home), ...fixture.env, HOME: home }, stop: () => fixture.remove() };
    },
  },
];

/** What a backend must give back: the username and secret exactly. */
function expectEntry(got: Credential | undefined, want: Credentials): void {
  expect(got).toBeDefined();
  expect({ username: got?.username, secret: got?.secret }).toEqual({ username: want.username, secret: want.secret });
}

const credentials = (serverURL: string, username: string, secret = `${SECRET}-${username}`): Credentials => ({
  serverURL,
  username,
  secret,
});

/** At most `width` at a time: a real parallel load without thousands of processes at once. */
async function inBatches<T>(items: readonly T[], width: number, work: (item: T, index: number) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < items.length; at += width) {
    await Promise.all(items.slice(at, at + width).map((item, i) => work(item, at + i)));
  }
}

function expectNoSecretInStderr(results: HelperResult[], secret: string): void {
  for (const result of results) expect(result.stderr).not.toContain(secret);
}

// Each pass write starts pass and gpg, each keychain call a D-Bus round trip: seconds on a loaded machine.
describe.each(BACKENDS)('the $name store', { timeout: 180_000 }, ({ name, skip, scale, setup }) => {
  let home: string;
  let backend: Backend;
  let store: Store;
  const open = () => openStore(name, { env: backend.env });
  const helper = (action: string, input?: string) => runHelper(action, { env: { ...backend.env, BERTH_STORE: name }, input });

  beforeAll(async () => {
    if (skip) return;
    home = await fixtureDir(`berth-contract-${name}-`);
    backend = await setup(home);
    store = await open();
  }, 180_000);
  afterAll(async () => {
    await backend?.stop();
    if (home) await removeDir(home);
  });
  // Every case starts from an empty store.
  afterEach(async () => {
    if (skip || !store) return;
    for (const key of Object.keys(await store.list())) await store.erase(key);
  });

  it.skipIf(skip)('is empty at first: list is {}, get finds nothing', async () => {
    expect(await store.list()).toEqual({});
    expect(await store.get('ghcr.io')).toBeUndefined();
  });

  it.skipIf(skip)('sets, gets, lists and erases; a second set replaces the first', async () => {
    await store.set('ghcr.io', credentials('https://ghcr.io', 'octocat'));
    await store.set('quay.io', credentials('quay.io', 'org+robot'));
    expectEntry(await store.get('ghcr.io'), credentials('https://ghcr.io', 'octocat'));
    expect(await store.list()).toEqual({ 'ghcr.io': 'octocat', 'quay.io': 'org+robot' });
    await store.set('ghcr.io', credentials('ghcr.io', 'new-user', `${SECRET}-rotated`));
    expectEntry(await store.get('ghcr.io'), credentials('ghcr.io', 'new-user', `${SECRET}-rotated`));
    expect(await store.list()).toEqual({ 'ghcr.io': 'new-user', 'quay.io': 'org+robot' });
    await store.erase('ghcr.io');
    expect(await store.get('ghcr.io')).toBeUndefined();
    expect(await store.list()).toEqual({ 'quay.io': 'org+robot' });
  });

  it.skipIf(skip)('erasing an absent entry is not an error and changes nothing', async () => {
    await store.set('quay.io', credentials('quay.io', 'org+robot'));
    await expect(store.erase('never.example')).resolves.toBeUndefined();
    await expect(store.erase('never.example')).resolves.toBeUndefined();
    expect(await store.list()).toEqual({ 'quay.io': 'org+robot' });
  });

  it.skipIf(skip)('keyed by registryKey: every spelling of a registry finds one entry', async () => {
    await store.set(registryKey('https://GHCR.io/'), credentials('https://GHCR.io/', 'octocat'));
    await store.set(registryKey('registry-1.docker.io'), credentials('registry-1.docker.io', 'hubuser'));
    await store.set(registryKey('http://localhost:5000/v2/'), credentials('http://localhost:5000/v2/', 'local'));
    for (const spelling of ['ghcr.io', 'https://ghcr.io', 'ghcr.io/', 'https://ghcr.io/octocat/app']) {
      expect((await store.get(registryKey(spelling)))?.username, spelling).toBe('octocat');
    }
    for (const spelling of ['docker.io', 'index.docker.io', DOCKER_HUB_KEY, 'https://registry-1.docker.io/v2/']) {
      expect((await store.get(registryKey(spelling)))?.username, spelling).toBe('hubuser');
    }
    expect((await store.get(registryKey('localhost:5000')))?.username).toBe('local');
    expect(await store.get(registryKey('docker.io.evil.example'))).toBeUndefined();
    expect(await store.list()).toEqual({ 'ghcr.io': 'octocat', [DOCKER_HUB_KEY]: 'hubuser', 'localhost:5000': 'local' });
  });

  it.skipIf(skip)('keeps unicode and JSON-special characters exactly', async () => {
    const tricky = credentials('https://ünïcode.example', 'jürgen-用户', 'pa"ss\\wörd 🔑 — ключ\t{"x":1}');
    await store.set('ünïcode.example', tricky);
    expectEntry(await store.get('ünïcode.example'), tricky);
    expect(await store.list()).toEqual({ 'ünïcode.example': 'jürgen-用户' });
  });

  it.skipIf(skip)('keeps a large secret (past the 64 KiB the reference helpers stop at)', async () => {
    const large = Array.from({ length: 100 * 1024 }, (_, i) => String.fromCharCode(33 + ((i * 7) % 94))).join('');
    await store.set('big.example', credentials('big.example', 'robot', large));
    expect((await store.get('big.example'))?.secret).toBe(large);
  });

  it.skipIf(skip)('holds many entries', async () => {
    const keys = Array.from({ length: scale.many }, (_, i) => `many-${i}.example:5000`);
    await inBatches(keys, 10, (key, i) => store.set(key, credentials(key, `user-${i}`)));
    const listed = await store.list();
    expect(Object.keys(listed).sort()).toEqual([...keys].sort());
    for (const [i, key] of keys.entries()) expect(listed[key]).toBe(`user-${i}`);
    const last = keys.length - 1;
    expectEntry(await store.get(keys[last]!), credentials(keys[last]!, `user-${last}`));
  });

  it.skipIf(skip)(`loses nothing when ${scale.writers} writers, each with its own store, set at once`, async () => {
    const writers = await Promise.all(Array.from({ length: scale.writers }, () => open()));
    await Promise.all(writers.map((writer, i) => writer.set(`writer-${i}.example`, credentials(`writer-${i}.example`, `user-${i}`))));
    expect(Object.keys(await store.list())).toHaveLength(scale.writers);
  });

  it.skipIf(skip)('stores, gets, lists and erases through the helper protocol, under any spelling of the registry', async () => {
    requireBuiltHelper();
    const results: HelperResult[] = [];
    const step = async (action: string, input?: string) => {
      const result = await helper(action, input);
      results.push(result);
      return result;
    };
    expect(await step('store', credentialsJSON('https://GHCR.io/', 'octocat', SECRET))).toMatchObject({ code: 0, stdout: '' });
    expect(await step('store', credentialsJSON('docker.io', 'hubuser', `${SECRET}-hub`))).toMatchObject({ code: 0, stdout: '' });
    const got = await step('get', 'ghcr.io');
    expect(got.code).toBe(0);
    expect(got.stdout).toBe(`${JSON.stringify({ ServerURL: 'ghcr.io', Username: 'octocat', Secret: SECRET })}\n`);
    const hub = await step('get', 'https://index.docker.io/v1/');
    expect(JSON.parse(hub.stdout)).toMatchObject({ Username: 'hubuser', Secret: `${SECRET}-hub` });
    expect(JSON.parse((await step('list')).stdout)).toEqual({ 'ghcr.io': 'octocat', [DOCKER_HUB_KEY]: 'hubuser' });
    expect(await step('erase', 'https://ghcr.io')).toMatchObject({ code: 0, stdout: '' });
    expect(await step('get', 'ghcr.io')).toMatchObject({ code: 1, stdout: `${NOT_FOUND_MESSAGE}\n` });
    expect(await step('erase', 'ghcr.io')).toMatchObject({ code: 0 });
    expect(JSON.parse((await step('list')).stdout)).toEqual({ [DOCKER_HUB_KEY]: 'hubuser' });
    expect(await step('erase', 'docker.io')).toMatchObject({ code: 0 });
    expect((await step('list')).stdout).toBe('{}\n');
    expectNoSecretInStderr(results, SECRET);
  });

  it.skipIf(skip)(
    'loses no entry when 50 helpers store at once',
    async () => {
      requireBuiltHelper();
      const registries = Array.from({ length: 50 }, (_, i) => `registry-${i}.example:5000`);
      const results = await Promise.all(
        registries.map((registry, i) => helper('store', credentialsJSON(registry, `user-${i}`, `${SECRET}-${i}`))),
      );
      for (const result of results) expect(result).toMatchObject({ code: 0, stdout: '' });
      const listed = JSON.parse((await helper('list')).stdout) as Record<string, string>;
      for (const [i, registry] of registries.entries()) expect(listed[registry]).toBe(`user-${i}`);
      expect(JSON.parse((await helper('get', 'registry-49.example:5000')).stdout).Secret).toBe(`${SECRET}-49`);
      expectNoSecretInStderr(results, SECRET);
    },
    300_000,
  );
});
