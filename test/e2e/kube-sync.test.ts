// The long-running `berth kube sync` as a Deployment runs it: the built CLI in a child process against
// the API server stand-in. It serves /healthz and /metrics, gives a namespace created after start its
// Secret, and exits 0 on SIGTERM. No secret reaches its log.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { FakeKubeApiServer } from '../fakes/kube-apiserver.js';
import { argvFor } from './harness/build.js';
import { tempHome } from './harness/daemon.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

it('serves /healthz and /metrics, follows new namespaces, stops cleanly on SIGTERM', async () => {
  const api = await FakeKubeApiServer.start();
  cleanups.push(() => api.close());
  api.addNamespace('apps');
  const home = await tempHome();
  cleanups.push(home.cleanup);
  const kubeconfig = join(home.dir, 'kubeconfig');
  await writeFile(kubeconfig, api.kubeconfig());
  const config = join(home.dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({ registries: [{ name: 'gh', provider: 'static', host: 'ghcr.io', options: { usernameEnv: 'U', passwordEnv: 'P' } }] }),
  );
  const env = { ...home.env, KUBECONFIG: kubeconfig, BERTH_CONFIG: config, U: 'octocat', P: 'ghp_never_logged' };
  const child = spawn(...argvFor('berth', ['kube', 'sync', '-A', '--service-account', 'default', '--listen', '127.0.0.1:0']), {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout.on('data', (chunk) => (log += chunk));
  child.stderr.on('data', (chunk) => (log += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  cleanups.push(async () => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  await until(() => /serving \/healthz and \/metrics on 127\.0\.0\.1:\d+/.test(log), 'the health server');
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(log)?.[1]);
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, text: await response.text() };
  };
  expect(await get('/healthz')).toEqual({ status: 200, text: 'ok\n' });
  expect(api.secret('apps', 'berth-pull')).toBeDefined();

  await until(() => api.openWatches === 1, 'the namespace watch');
  api.addNamespace('later');
  await until(() => api.serviceAccount('later', 'default')?.imagePullSecrets !== undefined, 'the new namespace to get its Secret');
  const metrics = (await get('/metrics')).text;
  expect(metrics).toContain('berth_kube_sync_passes_total 1\n');
  expect(metrics).toContain('berth_kube_sync_writes_total{kind="created"} 2\n');
  expect(metrics).toContain('berth_kube_sync_writes_total{kind="patched"} 2\n');
  expect(metrics).toContain('berth_kube_sync_namespaces{state="synced"} 2\n');
  expect((await get('/nope')).status).toBe(404);

  child.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(log).toContain('later: secret created, patched default');
  expect(log).not.toContain('ghp_never_logged');
  expect(log).not.toContain(Buffer.from('octocat:ghp_never_logged').toString('base64'));
}, 60_000);
