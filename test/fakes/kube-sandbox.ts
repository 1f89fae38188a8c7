/**
 * @module
 * A CLI sandbox wired to a fresh API server stand-in: KUBECONFIG points at it and one static
 * registry (`gh`, ghcr.io, user and token from GHCR_USER / GHCR_TOKEN) is configured, so
 * `berth kube sync` has something to write.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cliSandbox, type CliSandbox } from '../cli/commands/cli-harness.js';
import { FakeKubeApiServer } from './kube-apiserver.js';

export interface KubeSandbox {
  api: FakeKubeApiServer;
  sandbox: CliSandbox;
  cleanup(): Promise<void>;
}

export async function kubeSandbox(token: string): Promise<KubeSandbox> {
  const api = await FakeKubeApiServer.start();
  const sandbox = await cliSandbox({ GHCR_USER: 'octocat', GHCR_TOKEN: token });
  sandbox.env.KUBECONFIG = join(sandbox.home, 'kubeconfig');
  await writeFile(sandbox.env.KUBECONFIG, api.kubeconfig(), { mode: 0o600 });
  const registry = ['gh', '--provider', 'static', '--host', 'ghcr.io', '-o', 'usernameEnv=GHCR_USER', '-o', 'passwordEnv=GHCR_TOKEN'];
  const added = await sandbox.run('registries', 'add', ...registry);
  if (added.code !== 0) throw new Error(`registries add failed: ${added.stderr}`);
  return {
    api,
    sandbox,
    cleanup: async () => {
      await api.close();
      await sandbox.cleanup();
    },
  };
}
