import { describe, expect, it } from 'vitest';
import type { ProviderName } from '../../core/config/load.js';
import { MissingVariableError, planFromEnv } from '../../generators/env.js';

const detect = (host: string): ProviderName | undefined => {
  if (/\.dkr\.ecr\./.test(host)) return 'ecr';
  if (host.endsWith('.azurecr.io')) return 'azure';
  if (host.endsWith('gcr.io') || host.endsWith('-docker.pkg.dev')) return 'google';
  return undefined;
};
const plan = (env: Record<string, string>) => planFromEnv(env, detect);
const missing = (env: Record<string, string>) => {
  try {
    plan(env);
  } catch (err) {
    expect(err).toBeInstanceOf(MissingVariableError);
    return (err as Error).message;
  }
  throw new Error('expected a missing variable');
};

describe('planFromEnv', () => {
  it('static: Docker Hub by default, with the Codeship variable names', () => {
    expect(plan({ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'octo', DOCKER_PASSWORD: 'pat' }).registries).toEqual([
      { name: 'index.docker.io', provider: 'static', host: 'https://index.docker.io/v1/' },
    ]);
    expect(
      plan({ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p', DOCKER_REGISTRY: 'localhost:5000' }).registries[0]?.host,
    ).toBe('localhost:5000');
  });

  it.each([
    [{ BERTH_PROVIDER: 'static', DOCKER_PASSWORD: 'p' }, /^DOCKER_USERNAME is not set: /],
    [{ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: '  ' }, /^DOCKER_PASSWORD is not set: /],
    [{ BERTH_PROVIDER: 'ecr' }, /^BERTH_REGISTRIES is not set: .*AWS_ACCOUNT_ID/],
    [{ BERTH_PROVIDER: 'ecr', AWS_ACCOUNT_ID: '123456789012' }, /^AWS_REGION is not set: /],
    [{ BERTH_PROVIDER: 'azure' }, /^BERTH_REGISTRIES is not set: .*azurecr\.io/],
    [{}, /^BERTH_REGISTRIES is not set: /],
  ])('names the missing variable: %o', (env, message) => {
    expect(missing(env)).toMatch(message);
  });

  it('ecr: the registry of AWS_STS_ACCOUNT (or AWS_ACCOUNT_ID) in AWS_REGION; the provider reads AWS_STS_ROLE itself', () => {
    const env = { BERTH_PROVIDER: 'ecr', AWS_REGION: 'eu-west-1', AWS_STS_ACCOUNT: '123456789012', AWS_STS_ROLE: 'pull' };
    expect(plan(env).registries).toEqual([
      { name: '123456789012.dkr.ecr.eu-west-1.amazonaws.com', provider: 'ecr', host: '123456789012.dkr.ecr.eu-west-1.amazonaws.com' },
    ]);
  });

  it('ecr with ECR_PUBLIC writes public.ecr.aws', () => {
    expect(plan({ BERTH_PROVIDER: 'ecr', ECR_PUBLIC: 'true' }).registries.map((r) => [r.provider, r.host])).toEqual([
      ['ecr-public', 'public.ecr.aws'],
    ]);
  });

  it('google: Artifact Registry for GOOGLE_LOCATION, else the gcr.io hosts', () => {
    const env = { BERTH_PROVIDER: 'google', GOOGLE_AUTH_JSON: '{"type":"service_account"}' };
    expect(plan(env).registries.map((r) => r.host)).toEqual(['gcr.io', 'us.gcr.io', 'eu.gcr.io', 'asia.gcr.io']);
    expect(plan({ ...env, GOOGLE_LOCATION: 'europe-west1' }).registries.map((r) => r.host)).toEqual(['europe-west1-docker.pkg.dev']);
  });

  it("the multi-cloud image picks each host's provider", () => {
    const env = {
      BERTH_REGISTRIES: '123456789012.dkr.ecr.us-east-1.amazonaws.com, acme.azurecr.io,localhost:5000',
      AWS_REGION: 'us-east-1',
      DOCKER_USERNAME: 'u',
      DOCKER_PASSWORD: 'p',
    };
    expect(plan(env).registries.map((r) => r.provider)).toEqual(['ecr', 'azure', 'static']);
  });

  it('reads format, cache dir and Secret names', () => {
    const env = {
      BERTH_PROVIDER: 'static',
      DOCKER_USERNAME: 'u',
      DOCKER_PASSWORD: 'p',
      BERTH_FORMAT: 'k8s-secret',
      BERTH_CACHE_DIR: '/cache',
      BERTH_SECRET_NAME: 's',
      BERTH_NAMESPACE: 'n',
    };
    expect(plan(env)).toMatchObject({ format: 'k8s-secret', cacheDir: '/cache', secretName: 's', namespace: 'n' });
    expect(() => plan({ ...env, BERTH_FORMAT: 'yaml' })).toThrow(/^BERTH_FORMAT=yaml is not a format/);
    expect(() => plan({ ...env, BERTH_PROVIDER: 'aws' })).toThrow(/^BERTH_PROVIDER=aws is not a provider/);
  });
});
