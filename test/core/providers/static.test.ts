// The static provider: credentials from the environment or a secret file, never from the config.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.js';
import type { ProviderRequest } from '../../../core/providers/provider.js';
import { staticProvider } from '../../../core/providers/static.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

let dir: string;
beforeAll(async () => {
  dir = await fixtureDir('berth-static-');
});
afterAll(() => removeDir(dir));

function request(registryHost: string, options: ProviderRequest['options'], env: Record<string, string>): ProviderRequest {
  return { registryHost, options, env, now: () => 0 };
}

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('staticProvider', () => {
  it('reads DOCKER_USERNAME and DOCKER_PASSWORD by default, with no expiry', async () => {
    const env = { DOCKER_USERNAME: 'berthbot', DOCKER_PASSWORD: 'dckr_pat_abc123' };
    expect(await staticProvider(request('https://index.docker.io/v1/', {}, env))).toEqual({
      username: 'berthbot',
      secret: 'dckr_pat_abc123',
    });
  });

  it('reads the variables the options name (a Quay robot, a GHCR token)', async () => {
    const env = { QUAY_ROBOT: 'acme+ci', QUAY_TOKEN: 'R0B0TT0KEN', DOCKER_USERNAME: 'unused', DOCKER_PASSWORD: 'unused' };
    const credential = await staticProvider(request('quay.io', { usernameEnv: 'QUAY_ROBOT', passwordEnv: 'QUAY_TOKEN' }, env));
    expect(credential).toEqual({ username: 'acme+ci', secret: 'R0B0TT0KEN' });
    const ghcr = await staticProvider(request('ghcr.io', { username: 'octocat', passwordEnv: 'GHCR_TOKEN' }, { GHCR_TOKEN: 'ghp_x' }));
    expect(ghcr).toEqual({ username: 'octocat', secret: 'ghp_x' });
  });

  it('reads the secret from passwordFile without its trailing newline', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'artifactory-token\n', { mode: 0o600 });
    const credential = await staticProvider(request('acme.jfrog.io', { username: 'ci', passwordFile: file }, {}));
    expect(credential).toEqual({ username: 'ci', secret: 'artifactory-token' });
  });

  it('names the missing or empty variable and how to fix it', async () => {
    const missing = await failure(staticProvider(request('ghcr.io', { passwordEnv: 'GHCR_TOKEN' }, { DOCKER_USERNAME: 'u' })));
    expect(missing.message).toBe('password variable GHCR_TOKEN is not set');
    expect(missing.hint).toBe(`export GHCR_TOKEN, or name another variable with the registry's "passwordEnv" option`);
    const empty = await failure(staticProvider(request('ghcr.io', {}, { DOCKER_USERNAME: '', DOCKER_PASSWORD: 'p' })));
    expect(empty.message).toBe('username variable DOCKER_USERNAME is empty');
  });

  it('refuses a secret written into the config options', async () => {
    const err = await failure(staticProvider(request('ghcr.io', { username: 'u', password: 'hunter2' }, {})));
    expect(err.message).toBe('option "password" would keep a secret in the config file');
    expect(err.message).not.toContain('hunter2');
  });

  it('names an unreadable or empty password file', async () => {
    const missing = join(dir, 'absent');
    expect((await failure(staticProvider(request('r.example', { username: 'u', passwordFile: missing }, {})))).message).toBe(
      `cannot read password file ${missing}: ENOENT`,
    );
    const empty = join(dir, 'empty');
    writeFileSync(empty, '\n');
    expect((await failure(staticProvider(request('r.example', { username: 'u', passwordFile: empty }, {})))).message).toBe(
      `password file ${empty} is empty`,
    );
  });

  it('rejects option values that are not names', async () => {
    const err = await failure(staticProvider(request('r.example', { username: 'u', passwordEnv: 42 }, {})));
    expect(err.message).toBe('option "passwordEnv" must be a non-empty string');
  });
});
