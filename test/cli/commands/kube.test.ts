// `berth kube sync --once` against the local API server stand-in (test/fakes/kube-apiserver.ts),
// through the official client, with a static registry configured; what it wrote is read back with
// the real kubectl. Covers selection (names, all, selector, exclusions), service accounts keeping
// their entries, no write when nothing changed, updates with the resourceVersion read, 403 naming
// what RBAC refused while other namespaces proceed, Secrets berth does not own left alone, prune.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeKubeApiServer } from '../../fakes/kube-apiserver.js';
import { requireTools, TOOLS } from '../../e2e/harness/tools.js';
import type { CliHome } from '../../e2e/harness/cli.js';
import { kubeSandbox, type KubeSandbox } from '../../fakes/kube-sandbox.js';
import { eagerInputs } from '../../fakes/run-provider.js';

const OWNER = { 'app.kubernetes.io/managed-by': 'berth' };
let api: FakeKubeApiServer;
let sandbox: CliHome;

let world: KubeSandbox;

beforeEach(async () => {
  world = await kubeSandbox('ghp_first');
  ({ api, sandbox } = world);
});

afterEach(() => world.cleanup());

const sync = (...args: string[]) => sandbox.berth(['kube', 'sync', '--once', ...args]);

function dockerConfig(namespace: string, name = 'berth-pull'): unknown {
  const secret = api.secret(namespace, name) as { data?: Record<string, string> } | undefined;
  const payload = secret?.data?.['.dockerconfigjson'];
  return payload === undefined ? undefined : JSON.parse(Buffer.from(payload, 'base64').toString('utf8'));
}

const auths = (password: string) => ({ auths: { 'ghcr.io': { auth: Buffer.from(`octocat:${password}`).toString('base64') } } });

describe('berth kube sync --once', () => {
  it('writes the Secret into every namespace and adds it to the service accounts, keeping their entries', async () => {
    api.addNamespace('apps');
    api.addNamespace('ci');
    api.putServiceAccount('apps', 'builder', [{ name: 'quay-robot' }]);
    api.putServiceAccount('ci', 'builder');
    const result = await sync('--all-namespaces', '--service-account', 'default', '--service-account', 'builder');
    expect(result.stderr).toBe('berth: 2 namespaces, 2 created, 0 updated, 0 unchanged, 4 service accounts patched\n');
    expect(result.code).toBe(0);
    for (const namespace of ['apps', 'ci']) {
      expect(api.secret(namespace, 'berth-pull')).toMatchObject({ type: 'kubernetes.io/dockerconfigjson', metadata: { labels: OWNER } });
      expect(dockerConfig(namespace)).toEqual(auths('ghp_first'));
      expect(api.serviceAccount(namespace, 'default')?.imagePullSecrets).toEqual([{ name: 'berth-pull' }]);
    }
    expect(api.serviceAccount('apps', 'builder')?.imagePullSecrets).toEqual([{ name: 'quay-robot' }, { name: 'berth-pull' }]);
    expect(api.count('list', 'namespaces')).toBe(1);
    expect(api.count('create', 'secrets')).toBe(2);
    expect(api.count('patch', 'serviceaccounts')).toBe(4);
  });

  it('a second pass with nothing changed writes nothing; a new token updates with the resourceVersion read', async () => {
    api.addNamespace('apps');
    await sync('--namespace', 'apps', '--service-account', 'default');
    const writes = () => ['create', 'update', 'patch', 'delete'].reduce((sum, verb) => sum + api.count(verb as 'create'), 0);
    const afterFirst = writes();
    const again = await sync('--namespace', 'apps', '--service-account', 'default');
    expect(again.stderr).toContain('0 created, 0 updated, 1 unchanged, 0 service accounts patched');
    expect(writes()).toBe(afterFirst);
    // a label someone added to berth's Secret stays through an update
    const current = api.secret('apps', 'berth-pull')!;
    api.putSecret('apps', { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, team: 'a' } } });
    sandbox.env.GHCR_TOKEN = 'ghp_second';
    const updated = await sync('--namespace', 'apps', '--service-account', 'default');
    expect(updated.stderr).toContain('1 updated');
    expect(dockerConfig('apps')).toEqual(auths('ghp_second'));
    expect(api.secret('apps', 'berth-pull')?.metadata.labels).toEqual({ ...OWNER, team: 'a' });
    expect(api.serviceAccount('apps', 'default')?.imagePullSecrets).toEqual([{ name: 'berth-pull' }]);
  });

  it('kubectl reads back what berth wrote', async (ctx) => {
    requireTools([TOOLS.kubectl], ctx.skip);
    api.addNamespace('apps');
    expect((await sync('--namespace', 'apps', '--secret-name', 'pull', '--service-account', 'default')).code).toBe(0);
    const kubectl = (...args: string[]) =>
      promisify(execFile)('kubectl', ['--kubeconfig', sandbox.env.KUBECONFIG!, ...args], {
        env: { PATH: process.env.PATH, HOME: sandbox.dir },
      });
    const secret = JSON.parse((await kubectl('get', 'secret', 'pull', '-n', 'apps', '-o', 'json')).stdout);
    expect(secret).toMatchObject({
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: 'pull', namespace: 'apps', labels: OWNER },
    });
    expect(JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString())).toEqual(auths('ghp_first'));
    const account = JSON.parse((await kubectl('get', 'serviceaccount', 'default', '-n', 'apps', '-o', 'json')).stdout);
    expect(account.imagePullSecrets).toEqual([{ name: 'pull' }]);
  });

  it('selects by label selector, minus excluded namespaces', async () => {
    api.addNamespace('pay-1', { team: 'payments' });
    api.addNamespace('pay-2', { team: 'payments' });
    api.addNamespace('web', { team: 'web' });
    const result = await sync('--namespace-selector', 'team=payments', '--exclude-namespace', 'pay-2');
    expect(result.code).toBe(0);
    expect(api.secrets('pay-1').map((s) => s.metadata.name)).toEqual(['berth-pull']);
    expect(api.secrets('pay-2')).toEqual([]);
    expect(api.secrets('web')).toEqual([]);
  });

  it('403: one line naming verb, resource and namespace; the other namespaces still get theirs; exit 1', async () => {
    for (const name of ['a', 'b', 'c']) api.addNamespace(name);
    api.forbid('create', 'secrets', 'b');
    const result = await sync('--all-namespaces');
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n').filter((line) => line.startsWith('berth: error:'))).toEqual([
      'berth: error: b: forbidden: cannot create secrets in namespace b',
    ]);
    expect(api.secret('a', 'berth-pull')).toBeDefined();
    expect(api.secret('c', 'berth-pull')).toBeDefined();
    expect(api.secret('b', 'berth-pull')).toBeUndefined();
  });

  it('never touches a Secret of that name berth did not create', async () => {
    api.addNamespace('apps');
    const theirs = api.putSecret('apps', {
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': Buffer.from('{"auths":{}}').toString('base64') },
      metadata: { name: 'berth-pull' },
    });
    const result = await sync('--namespace', 'apps');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('berth: error: apps: secret apps/berth-pull was not created by berth; left alone');
    expect(api.secret('apps', 'berth-pull')).toEqual(theirs);
    const pruned = await sync('--namespace', 'other-ns', '--prune');
    expect(pruned.stderr).toContain('other-ns not found');
    expect(api.secret('apps', 'berth-pull')).toEqual(theirs);
  });

  it('--prune removes its own Secret from namespaces that stop matching, and its name from their service accounts; without it both stay', async () => {
    api.addNamespace('one', { pull: 'yes' });
    api.addNamespace('two', { pull: 'yes' });
    const selected = ['--namespace-selector', 'pull=yes', '--service-account', 'default'];
    await sync(...selected);
    api.setNamespaceLabels('two', { pull: 'no' });
    await sync(...selected);
    expect(api.secret('two', 'berth-pull')).toBeDefined();
    // someone else's pull secret on the same service account stays
    api.putServiceAccount('two', 'default', [{ name: 'berth-pull' }, { name: 'theirs' }]);
    const result = await sync(...selected, '--prune');
    expect(result.stderr).toContain('1 pruned');
    expect(api.secret('two', 'berth-pull')).toBeUndefined();
    expect(api.serviceAccount('two', 'default')?.imagePullSecrets).toEqual([{ name: 'theirs' }]);
    expect(api.secret('one', 'berth-pull')).toBeDefined();
    expect(api.serviceAccount('one', 'default')?.imagePullSecrets).toEqual([{ name: 'berth-pull' }]);
  });

  it('a named namespace that does not exist fails the run, and one missing service account too', async () => {
    api.addNamespace('apps', {}, { defaultServiceAccount: false });
    const result = await sync('--namespace', 'apps', '--namespace', 'gone', '--service-account', 'default');
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('berth: error: gone: namespace gone not found');
    expect(result.stderr).toContain('berth: error: apps: serviceaccount apps/default not found');
  });

  it('refuses to run without a namespace choice, or with a bad duration', async () => {
    expect(await sync()).toMatchObject({ code: 1, stderr: expect.stringContaining('no namespaces chosen') });
    expect(await sandbox.berth(['kube', 'sync', '-A', '--resync', '5 minutes'])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('not a duration'),
    });
  });
});

describe('what loads when', () => {
  it("the helper's bundle never holds the Kubernetes client or berth's kube code; the CLI loads them only for kube sync", async () => {
    const { build } = await import('esbuild');
    const bundle = {
      outdir: '/nonexistent',
      write: false,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      metafile: true,
      logLevel: 'error',
    } as const;
    const helper = (await build({ ...bundle, entryPoints: { entry: 'helper/main.ts' }, packages: 'external' })).metafile;
    const helperFiles = Object.keys(helper.inputs);
    expect(helperFiles.filter((file) => file.includes('core/kube'))).toEqual([]);
    // The dependency table names the client, as an import() no helper path reaches.
    const helperImports = Object.values(helper.outputs).flatMap((output) => output.imports);
    expect(helperImports.filter((imported) => imported.path.includes('@kubernetes') && imported.kind !== 'dynamic-import')).toEqual([]);
    // the CLI as built (code splitting): what `berth` evaluates before any command's dynamic import
    const eager = await eagerInputs('cli/berth.ts', ['@napi-rs/keyring']);
    const cli = await build({ ...bundle, entryPoints: { berth: 'cli/berth.ts' }, external: ['@napi-rs/keyring'] });
    expect([...eager].filter((file) => file.includes('@kubernetes') || file.includes('core/kube/'))).toEqual([]);
    expect(Object.keys(cli.metafile.inputs).some((file) => file.includes('@kubernetes/client-node'))).toBe(true); // but it is in the bundle
  }, 60_000);
});
