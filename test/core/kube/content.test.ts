// The pull Secret's content: berth's configured registries, formatted as `berth generate --format
// k8s-secret` formats them, and the choice of registries refused as generate refuses it.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolvePullSecretContent } from '../../../core/kube/content.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'berth-kube-content-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

async function envWith(registries: unknown[]): Promise<Record<string, string>> {
  const config = join(home, 'config.json');
  await writeFile(config, JSON.stringify({ registries }));
  return {
    HOME: home,
    XDG_CACHE_HOME: join(home, 'cache'),
    XDG_DATA_HOME: join(home, 'data'),
    BERTH_CONFIG: config,
    U: 'octocat',
    P: 'ghp_x',
    Q: 'org+robot',
    R: 'quay',
  };
}

const staticRegistry = (name: string, host: string, user: string, pass: string) => ({
  name,
  provider: 'static',
  host,
  options: { usernameEnv: user, passwordEnv: pass },
});

describe('resolvePullSecretContent', () => {
  it('every configured registry in one dockerconfigjson, no expiry for static credentials', async () => {
    const env = await envWith([staticRegistry('gh', 'ghcr.io', 'U', 'P'), staticRegistry('quay', 'quay.io', 'Q', 'R')]);
    for (const cached of [true, false]) {
      const content = await resolvePullSecretContent({ env, registries: [], secretName: 'pull', warn: () => undefined, cached });
      expect(content.type).toBe('kubernetes.io/dockerconfigjson');
      expect(content.expiresAt).toBeUndefined();
      expect(JSON.parse(Buffer.from(content.data['.dockerconfigjson']!, 'base64').toString())).toEqual({
        auths: {
          'ghcr.io': { auth: Buffer.from('octocat:ghp_x').toString('base64') },
          'quay.io': { auth: Buffer.from('org+robot:quay').toString('base64') },
        },
      });
    }
  });

  it('--registry picks some; two registries writing one host, no registry and a bad Secret name are refused', async () => {
    const env = await envWith([staticRegistry('gh', 'ghcr.io', 'U', 'P'), staticRegistry('gh2', 'ghcr.io', 'Q', 'R')]);
    const resolve = (registries: string[], secretName = 'pull') =>
      resolvePullSecretContent({ env, registries, secretName, warn: () => undefined });
    const one = await resolve(['gh2']);
    expect(Buffer.from(one.data['.dockerconfigjson']!, 'base64').toString()).toContain(Buffer.from('org+robot:quay').toString('base64'));
    await expect(resolve(['gh', 'gh2'])).rejects.toThrow('registries "gh" and "gh2" both write ghcr.io');
    await expect(resolve(['nope'])).rejects.toThrow('no registry named "nope"');
    await expect(resolve(['gh'], 'Bad_Name')).rejects.toThrow('not a valid Kubernetes secret name');
    await expect(
      resolvePullSecretContent({ env: await envWith([]), registries: [], secretName: 'pull', warn: () => undefined }),
    ).rejects.toThrow('no registries configured');
  });
});
