// KUBECONFIG with several files, merged as kubectl merges them: the first file to name a cluster,
// user or context wins, the first current-context wins, a missing file is skipped. The real kubectl
// reads the same files to the same server.
import { execFile } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openKubeApi } from '../../../core/kube/api.js';
import { FakeKubeApiServer } from '../../fakes/kube-apiserver.js';
import { tempDir } from '../../fakes/temp.js';
import { requireTools, TOOLS } from '../../e2e/harness/tools.js';

let server: FakeKubeApiServer;
let dir: string;

beforeEach(async () => {
  server = await FakeKubeApiServer.start();
  dir = await tempDir('berth-kubeconfig-');
});

afterEach(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const config = (parts: Record<string, unknown>) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], ...parts });

/** ~/.kube/config names the context; the cluster comes from a second file; a third repeats the names, pointing elsewhere. */
async function files(): Promise<string> {
  const own = JSON.parse(server.kubeconfig()) as Record<string, unknown>;
  const paths = ['first', 'missing', 'second', 'third'].map((name) => join(dir, name));
  await writeFile(paths[0]!, config({ 'current-context': 'fake' }));
  await writeFile(paths[2]!, JSON.stringify({ ...own, 'current-context': 'elsewhere' }));
  await writeFile(
    paths[3]!,
    config({
      clusters: [{ name: 'fake', cluster: { server: 'https://127.0.0.1:9' } }],
      contexts: [{ name: 'elsewhere', context: { cluster: 'fake', user: 'berth' } }],
      'current-context': 'elsewhere',
    }),
  );
  return paths.join(':');
}

describe('KUBECONFIG with several files', () => {
  it('reaches the cluster kubectl reaches: first name and first current-context win, missing files skipped', async (ctx) => {
    const KUBECONFIG = await files();
    const api = await openKubeApi({ KUBECONFIG });
    await api.listNamespaces();
    requireTools([TOOLS.kubectl], ctx.skip);
    const { stdout } = await promisify(execFile)(
      'kubectl',
      ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'],
      {
        env: { PATH: process.env.PATH, HOME: dir, KUBECONFIG },
      },
    );
    expect(stdout).toBe(server.url);
  });

  it('none of the files there: one line naming KUBECONFIG', async () => {
    await expect(openKubeApi({ KUBECONFIG: `${join(dir, 'a')}:${join(dir, 'b')}` })).rejects.toThrow(
      /KUBECONFIG names no file that exists/,
    );
  });
});
