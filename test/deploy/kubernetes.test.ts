// deploy/kubernetes/ as shipped: the ClusterRole is exactly the least privilege the issue names, and
// it is enough: `berth kube sync` with the Deployment's own arguments, against the API server
// stand-in allowing only that role's verbs, syncs every namespace; --prune needs the extra role.
// The kubelet's CredentialProviderConfig matches every cloud's registry hosts and runs the plugin.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { loadAllYaml } from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeKubeApiServer } from '../fakes/kube-apiserver.js';
import { kubeSandbox, type KubeSandbox } from '../fakes/kube-sandbox.js';
import type { CliSandbox } from '../cli/commands/cli-harness.js';

const DIR = join(import.meta.dirname, '../../deploy/kubernetes');

interface Manifest {
  kind: string;
  metadata: { name: string };
  rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[];
  [field: string]: unknown;
}

async function manifests(dir = DIR): Promise<Manifest[]> {
  const files = (await readdir(dir)).filter((file) => file.endsWith('.yaml') && file !== 'kustomization.yaml');
  return (await Promise.all(files.map(async (file) => loadAllYaml(await readFile(join(dir, file), 'utf8')) as Manifest[]))).flat();
}

const role = (all: Manifest[], name: string) => all.find((m) => m.kind === 'ClusterRole' && m.metadata.name === name)!;

function syncArgs(all: Manifest[], kind: 'Deployment' | 'CronJob'): string[] {
  const workload = all.find((m) => m.kind === kind) as unknown as {
    spec: {
      template?: { spec: { containers: { args: string[] }[] } };
      jobTemplate?: { spec: { template: { spec: { containers: { args: string[] }[] } } } };
    };
  };
  const pod = workload.spec.template ?? workload.spec.jobTemplate!.spec.template;
  return pod.spec.containers[0]!.args;
}

describe('deploy/kubernetes', () => {
  let api: FakeKubeApiServer;
  let sandbox: CliSandbox;
  let world: KubeSandbox;
  beforeEach(async () => {
    world = await kubeSandbox('ghp_deploy');
    ({ api, sandbox } = world);
    for (const name of ['apps', 'ci', 'kube-system']) api.addNamespace(name);
  });
  afterEach(() => world.cleanup());

  it('grants exactly namespaces get/list/watch, secrets get/create/update/patch, serviceaccounts get/patch', async () => {
    expect(role(await manifests(), 'berth-sync').rules).toEqual([
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['get', 'create', 'update', 'patch'] },
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'patch'] },
    ]);
    expect(role(await manifests(), 'berth-sync-prune').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['delete'] }]);
  });

  it("the CronJob's arguments sync every namespace with only the ClusterRole's verbs", async () => {
    const all = await manifests();
    api.allowOnly(role(all, 'berth-sync').rules!);
    const result = await sandbox.run(...syncArgs(all, 'CronJob'));
    expect(result.stderr).toBe('berth: 2 namespaces, 2 created, 0 updated, 0 unchanged, 2 service accounts patched\n');
    expect(result.code).toBe(0);
    expect(api.secret('kube-system', 'berth-pull')).toBeUndefined();
  });

  it("the Deployment's arguments (--prune) need the prune role, and work with it", async () => {
    const all = await manifests();
    const args = [...syncArgs(all, 'Deployment'), '--once'];
    api.allowOnly(role(all, 'berth-sync').rules!);
    api.putSecret('kube-system', { type: 'Opaque', metadata: { name: 'berth-pull', labels: { 'app.kubernetes.io/managed-by': 'berth' } } });
    const refused = await sandbox.run(...args);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('berth: error: kube-system: prune: forbidden: cannot delete secrets in namespace kube-system');
    api.allowOnly([...role(all, 'berth-sync').rules!, ...role(all, 'berth-sync-prune').rules!]);
    const pruned = await sandbox.run(...args);
    expect(pruned.code).toBe(0);
    expect(api.secret('kube-system', 'berth-pull')).toBeUndefined();
  });

  it('the CredentialProviderConfig runs the plugin for every cloud registry host', async () => {
    const [config] = (await manifests(join(DIR, 'kubelet'))) as unknown as {
      apiVersion: string;
      providers: { name: string; apiVersion: string; args: string[]; matchImages: string[]; defaultCacheDuration: string }[];
    }[];
    expect(config?.apiVersion).toBe('kubelet.config.k8s.io/v1');
    const provider = config!.providers[0]!;
    expect(provider).toMatchObject({
      name: 'berth',
      apiVersion: 'credentialprovider.kubelet.k8s.io/v1',
      args: ['kubelet-credential-provider'],
    });
    // the kubelet's rule: as many labels on both sides, `*` stands for one whole label
    const matches = (pattern: string, host: string) => {
      const [p, h] = [pattern.split('.'), host.split('.')];
      return p.length === h.length && p.every((label, n) => label === '*' || label === h[n]);
    };
    for (const host of [
      '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn',
      '123456789012.dkr-ecr.eu-west-1.on.aws',
      'public.ecr.aws',
      'gcr.io',
      'eu.gcr.io',
      'europe-west1-docker.pkg.dev',
      'berthtest.azurecr.io',
    ]) {
      expect(
        provider.matchImages.some((pattern) => matches(pattern, host)),
        host,
      ).toBe(true);
    }
    expect(provider.matchImages.some((pattern) => matches(pattern, 'berthtest.azurecr.io.evil.example'))).toBe(false);
  });
});
