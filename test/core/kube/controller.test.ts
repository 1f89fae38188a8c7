// The long-running sync against the API server stand-in through the official client: namespaces
// that appear or start matching get the Secret without a restart (watch), ones that stop matching
// are pruned, a dropped watch resumes, a compacted history (410 Gone) lists again, credentials are
// refreshed ahead of expiry. Then a fault run: a share of writes answered 409 or 500 and watches
// dropped at random while namespaces come and go; at the end every matching namespace holds exactly
// one current Secret, every service account lists it once, and nothing berth does not own changed.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKubeApi, type KubeApi } from '../../../core/kube/api.js';
import { SyncController } from '../../../core/kube/controller.js';
import { OWNER_LABEL, type PullSecretContent } from '../../../core/kube/reconcile.js';
import type { SyncOptions } from '../../../core/kube/sync.js';
import { FakeKubeApiServer } from '../../fakes/kube-apiserver.js';
import { tempDir } from '../../fakes/temp.js';

let server: FakeKubeApiServer;
let api: KubeApi;
let dir: string;
const controllers: SyncController[] = [];

beforeEach(async () => {
  server = await FakeKubeApiServer.start();
  server.bookmarkIntervalMs = 200;
  dir = await tempDir('berth-kube-controller-');
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(kubeconfig, server.kubeconfig());
  api = await openKubeApi({ KUBECONFIG: kubeconfig });
});

afterEach(async () => {
  for (const controller of controllers.splice(0)) await controller.stop();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const content = (password: string, expiresAt?: Date): PullSecretContent => ({
  type: 'kubernetes.io/dockerconfigjson',
  data: {
    '.dockerconfigjson': Buffer.from(
      JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from(`u:${password}`).toString('base64') } } }),
    ).toString('base64'),
  },
  ...(expiresAt ? { expiresAt } : {}),
});

function options(overrides: Partial<SyncOptions> = {}): SyncOptions {
  return {
    namespaces: [],
    allNamespaces: false,
    excludeNamespaces: [],
    secretName: 'berth-pull',
    serviceAccounts: ['default'],
    prune: true,
    ...overrides,
  };
}

function start(resolve: () => Promise<PullSecretContent>, sync: SyncOptions, resyncMs = 60_000): SyncController {
  const controller = new SyncController({ api, options: sync, resolve, log: () => undefined, resyncMs, watchRetryMs: 50 });
  controllers.push(controller);
  return controller;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the cluster to converge');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const holds = (namespace: string, expected: PullSecretContent) =>
  server.secret(namespace, 'berth-pull')?.data !== undefined &&
  JSON.stringify((server.secret(namespace, 'berth-pull') as unknown as { data: unknown }).data) === JSON.stringify(expected.data);

describe('SyncController', () => {
  it('follows namespaces: new and newly matching ones get the Secret, ones that stop matching are pruned', async () => {
    server.addNamespace('one', { pull: 'yes' });
    const current = content('p1');
    const controller = start(async () => current, options({ namespaceSelector: 'pull=yes' }));
    expect((await controller.start()).created).toBe(1);
    server.addNamespace('two', { pull: 'yes' });
    server.addNamespace('three', { pull: 'no' });
    await until(() => holds('two', current) && server.serviceAccount('two', 'default')?.imagePullSecrets !== undefined);
    server.setNamespaceLabels('three', { pull: 'yes' });
    await until(() => holds('three', current));
    server.setNamespaceLabels('one', { pull: 'no' });
    await until(() => server.secret('one', 'berth-pull') === undefined);
    expect(controller.healthy()).toBe(true);
    expect(server.count('list', 'namespaces')).toBe(1 + 1); // the first pass (and its prune list)
  });

  it('a dropped watch resumes from its resourceVersion; a compacted history lists again', async () => {
    server.bookmarkIntervalMs = 60_000; // no bookmark moves the watcher's resourceVersion past the compaction
    server.addNamespace('one');
    const current = content('p1');
    const controller = start(async () => current, options({ allNamespaces: true }));
    await controller.start();
    await until(() => server.openWatches === 1);
    server.dropWatches();
    server.addNamespace('after-drop');
    await until(() => holds('after-drop', current));
    expect(controller.status.watchRestarts).toBeGreaterThanOrEqual(1);
    expect(server.count('list', 'namespaces')).toBe(1);
    server.putSecret('one', { type: 'Opaque', metadata: { name: 'unrelated' } }); // moves the resourceVersion on
    await until(() => server.openWatches === 1);
    server.compact();
    server.dropWatches();
    await until(() => controller.status.relists >= 1);
    server.addNamespace('after-gone');
    await until(() => holds('after-gone', current));
  });

  it('resolves again ahead of expiry and writes only the changed content', async () => {
    server.addNamespace('one');
    let calls = 0;
    const controller = start(async () => content(`p${++calls}`, new Date(Date.now() + 3_000)), options({ allNamespaces: true }));
    await controller.start();
    const firstVersion = server.secret('one', 'berth-pull')?.metadata.resourceVersion;
    await until(() => calls >= 2, 5_000); // refreshed at about 2.25 s of a 3 s life
    await until(() => holds('one', content('p2')));
    expect(server.secret('one', 'berth-pull')?.metadata.resourceVersion).not.toBe(firstVersion);
    expect(server.count('update', 'secrets')).toBe(1);
  });
});

describe('fault run', () => {
  it('409s, 500s and dropped watches: every matching namespace ends with exactly one current Secret, listed once', async () => {
    let random = 0x2f6b_1a3c;
    const next = () => {
      random = (random * 1_103_515_245 + 12_345) % 2 ** 31; // seeded, so a failure can be replayed
      return random / 2 ** 31;
    };
    for (let n = 0; n < 30; n++) server.addNamespace(`ns-${n}`, { env: n % 3 === 0 ? 'dev' : 'prod' });
    // things berth does not own: another Secret everywhere, a foreign Secret of berth's name, an SA entry
    for (let n = 0; n < 30; n++) server.putSecret(`ns-${n}`, { type: 'Opaque', data: { k: 'dg==' }, metadata: { name: 'app-config' } });
    server.putSecret('ns-1', { type: 'Opaque', data: { k: 'dg==' }, metadata: { name: 'berth-pull' } });
    server.putServiceAccount('ns-2', 'default', [{ name: 'quay-robot' }]);
    const initial = server.namespaceNames();
    const foreign = () =>
      JSON.stringify(initial.map((ns) => [server.secret(ns, 'app-config'), ns === 'ns-1' && server.secret(ns, 'berth-pull')]));
    const foreignBefore = foreign();

    server.setFaults({ writeFailureRate: 0.3, random: next });
    let current = content('token-1');
    const controller = start(async () => current, options({ namespaceSelector: 'env=prod' }), 500);
    await controller.start();
    // Watches are dropped a counted number of times (every third change), each time waiting for the
    // controller to watch again: bounded by count, not by the clock, so a slow machine tests the same.
    let drops = 0;
    for (let n = 30; n < 45; n++) {
      server.addNamespace(`ns-${n}`, { env: 'prod' });
      if (n % 4 === 0) server.setNamespaceLabels(`ns-${n - 20}`, { env: next() < 0.5 ? 'prod' : 'dev' });
      if (n % 3 === 0) {
        await until(() => server.openWatches > 0);
        server.dropWatches();
        drops++;
      }
    }
    current = content('token-2');
    await controller.refresh();

    const isProd = (ns: string) => server.namespaceLabels(ns)?.env === 'prod';
    const matching = () => server.namespaceNames().filter((ns) => ns !== 'ns-1' && isProd(ns));
    const owned = (ns: string) => server.secrets(ns).filter((secret) => secret.metadata.labels?.[OWNER_LABEL] === 'berth');
    const listedOnce = (ns: string) =>
      (server.serviceAccount(ns, 'default')?.imagePullSecrets as { name: string }[] | undefined)?.filter(
        (entry) => entry.name === 'berth-pull',
      ).length === 1;
    const converged = () =>
      matching().every((ns) => holds(ns, current) && owned(ns).length === 1 && listedOnce(ns)) &&
      server
        .namespaceNames()
        .filter((ns) => !isProd(ns))
        .every((ns) => owned(ns).length === 0);
    await until(converged, 20_000).catch((err) => {
      const stuck = matching().filter((ns) => !(holds(ns, current) && owned(ns).length === 1 && listedOnce(ns)));
      throw new Error(`${(err as Error).message}: ${stuck.join(', ')}; failing ${JSON.stringify([...controller.status.failing])}`);
    });

    expect(matching().length).toBeGreaterThan(20);
    if (foreign() !== foreignBefore) {
      const changed = initial.filter((_ns, n) => JSON.stringify(JSON.parse(foreign())[n]) !== JSON.stringify(JSON.parse(foreignBefore)[n]));
      throw new Error(
        `objects berth does not own changed in ${changed.join(', ')}: ${JSON.stringify(changed.map((ns) => server.secrets(ns)))}`,
      );
    }
    expect(server.serviceAccount('ns-2', 'default')?.imagePullSecrets).toEqual([{ name: 'quay-robot' }, { name: 'berth-pull' }]);
    expect(controller.status.failing.get('ns-1')).toMatch(/not created by berth/);
    expect(drops).toBe(5);
    await until(() => controller.status.watchRestarts >= drops);
    expect(server.injectedFaults).toBeGreaterThan(10);
  }, 60_000);
});
