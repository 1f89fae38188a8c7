import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openActiveStore } from '../../core/store/index.js';
import { AllFailedError, NotFoundError, ProviderError } from '../../core/errors.js';
import { configuredResolver } from '../../daemon/resolve.js';
import { tempDir } from '../fakes/temp.js';

async function home(extra: Record<string, string> = {}) {
  const dir = await tempDir('berth-resolve-');
  return { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data'), BERTH_STORE: 'file', ...extra };
}

describe('configuredResolver', () => {
  it("uses the configured registry's provider and options", async () => {
    const env = await home({ GHCR_USER: 'octocat', GHCR_TOKEN: 'ghp_example' });
    const resolve = configuredResolver(
      env,
      {
        registries: [
          { name: 'gh', provider: 'static', host: 'https://ghcr.io/', options: { usernameEnv: 'GHCR_USER', passwordEnv: 'GHCR_TOKEN' } },
          { name: 'gh-other', provider: 'static', host: 'ghcr.io', options: { username: 'someone-else', passwordEnv: 'GHCR_TOKEN' } },
        ],
      },
      Date.now,
    );
    expect(await resolve('ghcr.io')).toEqual({ username: 'octocat', secret: 'ghp_example' });
  });

  it("a provider's failure is passed on with the registry's name", async () => {
    const resolve = configuredResolver(await home(), { registries: [{ name: 'gh', provider: 'static', host: 'ghcr.io' }] }, Date.now);
    const err = await resolve('ghcr.io').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AllFailedError);
    expect((err as AllFailedError).reasons).toEqual([expect.any(ProviderError)]);
    expect((err as Error).message).toMatch(/^no credentials for ghcr\.io: gh \(static\): .*DOCKER_USERNAME is not set/);
  });

  it('leaves the fallback registry to the token cache: one provider call, no stand-in', async () => {
    const env = await home({ BACKUP_USER: 'backup', BACKUP_TOKEN: 'b4ckup' });
    const resolve = configuredResolver(
      env,
      {
        registries: [
          { name: 'gh', provider: 'static', host: 'ghcr.io', fallback: 'backup' },
          {
            name: 'backup',
            provider: 'static',
            host: 'registry.example',
            options: { usernameEnv: 'BACKUP_USER', passwordEnv: 'BACKUP_TOKEN' },
          },
        ],
      },
      Date.now,
    );
    const err = await resolve('ghcr.io').catch((e: unknown) => e);
    expect((err as AllFailedError).reasons).toHaveLength(1);
    expect(await resolve('registry.example')).toEqual({ username: 'backup', secret: 'b4ckup' });
  });

  it('reads a host nobody configured and no cloud owns from the store', async () => {
    const env = await home();
    const store = await openActiveStore(env);
    await store.set('registry.example:5000', { username: 'ci', secret: 's3cret' });
    const resolve = configuredResolver(env, {}, Date.now);
    expect(await resolve('registry.example:5000')).toEqual({ username: 'ci', secret: 's3cret' });
    await expect(resolve('other.example')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('an unconfigured cloud host with no identity in the environment is not found (an anonymous pull), not a failure', async () => {
    const env = await home({ AWS_EC2_METADATA_DISABLED: 'true', GCE_METADATA_HOST: '127.0.0.1:9' });
    const resolve = configuredResolver(env, {}, Date.now);
    const err = await resolve('public.ecr.aws').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    const configured = configuredResolver(env, { registries: [{ name: 'pub', provider: 'ecr-public', host: 'public.ecr.aws' }] }, Date.now);
    await expect(configured('public.ecr.aws')).rejects.toBeInstanceOf(AllFailedError);
  });
});
