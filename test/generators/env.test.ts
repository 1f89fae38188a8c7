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
    [{ BERTH_PROVIDER: 'ecr' }, /^AWS_REGION is not set: /],
    [{ BERTH_PROVIDER: 'ecr', AWS_ACCOUNT_ID: '123456789012' }, /^AWS_REGION is not set: /],
    [{ BERTH_PROVIDER: 'azure' }, /^BERTH_REGISTRIES is not set: .*azurecr\.io/],
    [{}, /^BERTH_REGISTRIES is not set: /],
    // the multi-cloud image given Codeship's static variables, one of them missing
    [{ DOCKER_REGISTRY: 'ghcr.io', DOCKER_PASSWORD: 'p' }, /^DOCKER_USERNAME is not set: /],
    [{ DOCKER_USERNAME: 'u' }, /^DOCKER_PASSWORD is not set: /],
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

  it('google: the gcr.io hosts, and Artifact Registry in GOOGLE_LOCATION too', () => {
    const env = { BERTH_PROVIDER: 'google', GOOGLE_AUTH_JSON: '{"type":"service_account"}' };
    expect(plan(env).registries.map((r) => r.host)).toEqual(['gcr.io', 'us.gcr.io', 'eu.gcr.io', 'asia.gcr.io']);
    expect(plan({ ...env, GOOGLE_LOCATION: 'europe-west1' }).registries.map((r) => r.host)).toEqual([
      'gcr.io',
      'us.gcr.io',
      'eu.gcr.io',
      'asia.gcr.io',
      'europe-west1-docker.pkg.dev',
    ]);
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

const KEYS = { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
const ECR = { BERTH_PROVIDER: 'ecr', AWS_REGION: 'us-east-1', ...KEYS };
const hostsOf = (env: Record<string, string>) => plan(env).registries.map((r) => [r.provider, r.host]);

// The variables of codeship/aws-ecr-dockercfg-generator's README, each as a pipeline would set it.
describe('the ECR image with the Codeship variables', () => {
  it('AWS_REGION and keys only: ask ECR for the caller own registry in that region', () => {
    expect(plan(ECR)).toMatchObject({ registries: [], discoverEcrIn: 'us-east-1' });
  });
  it('AWS_STS_ROLE + AWS_STS_ACCOUNT: the role account registry', () => {
    expect(hostsOf({ ...ECR, AWS_STS_ROLE: 'pull', AWS_STS_ACCOUNT: '210987654321' })).toEqual([
      ['ecr', '210987654321.dkr.ecr.us-east-1.amazonaws.com'],
    ]);
  });
  it('AWS_ECR_REGISTRY_IDS: one registry per account, space-separated', () => {
    expect(hostsOf({ ...ECR, AWS_ECR_REGISTRY_IDS: '111111111111 222222222222' })).toEqual([
      ['ecr', '111111111111.dkr.ecr.us-east-1.amazonaws.com'],
      ['ecr', '222222222222.dkr.ecr.us-east-1.amazonaws.com'],
    ]);
    expect(hostsOf({ ...ECR, AWS_REGION: 'cn-north-1', AWS_ECR_REGISTRY_IDS: '111111111111' })).toEqual([
      ['ecr', '111111111111.dkr.ecr.cn-north-1.amazonaws.com.cn'],
    ]);
  });
  it.each(['', 'true', '1'])('ECR_PUBLIC=%o (set at all, as Codeship tested it): public.ecr.aws', (flag) => {
    expect(hostsOf({ ...ECR, ECR_PUBLIC: flag })).toEqual([['ecr-public', 'public.ecr.aws']]);
  });
  it('ECR_PUBLIC=false stays private', () => {
    expect(plan({ ...ECR, ECR_PUBLIC: 'false' }).discoverEcrIn).toBe('us-east-1');
  });
  it.each([
    [{ ...ECR, AWS_REGION: '' }, /^AWS_REGION is not set: /],
    [{ ...ECR, AWS_ACCESS_KEY_ID: '' }, /^AWS_ACCESS_KEY_ID is not set: /],
    [{ ...ECR, AWS_SECRET_ACCESS_KEY: '' }, /^AWS_SECRET_ACCESS_KEY is not set: /],
    [{ ...ECR, AWS_STS_ROLE: 'pull' }, /^AWS_STS_ACCOUNT is not set: /],
    [{ ...ECR, AWS_STS_ACCOUNT: '210987654321' }, /^AWS_STS_ROLE is not set: /],
    [{ ...ECR, ECR_PUBLIC: 'true', AWS_SECRET_ACCESS_KEY: '' }, /^AWS_SECRET_ACCESS_KEY is not set: /],
  ])('a missing variable is named: %o', (env, message) => {
    expect(missing(env)).toMatch(message);
  });
  it('a registry id that is not an account is named', () => {
    expect(() => plan({ ...ECR, AWS_ECR_REGISTRY_IDS: '111111111111 prod' })).toThrow(/^AWS_ECR_REGISTRY_IDS: "prod" is not a 12-digit/);
  });
});

// The variables of codeship/gcr-dockercfg-generator's README.
describe('the Google image with the Codeship variables', () => {
  const key = JSON.stringify({ type: 'service_account', client_email: 'ci@proj.iam.gserviceaccount.com' });
  const GOOGLE = {
    BERTH_PROVIDER: 'google',
    GOOGLE_AUTH_JSON: key,
    GOOGLE_AUTH_EMAIL: 'ci@proj.iam.gserviceaccount.com',
    GOOGLE_PROJECT_ID: 'proj',
  };
  it('the hosts Codeship wrote: gcr.io, us/eu/asia.gcr.io, and GOOGLE_LOCATION-docker.pkg.dev', () => {
    expect(hostsOf({ ...GOOGLE, GOOGLE_LOCATION: 'us-central1' }).map(([, host]) => host)).toEqual([
      'gcr.io',
      'us.gcr.io',
      'eu.gcr.io',
      'asia.gcr.io',
      'us-central1-docker.pkg.dev',
    ]);
    expect(hostsOf(GOOGLE)).toHaveLength(4);
  });
  it.each([
    [{ ...GOOGLE, GOOGLE_AUTH_JSON: '' }, /^GOOGLE_AUTH_JSON is not set: /],
    [{ ...GOOGLE, GOOGLE_AUTH_EMAIL: '' }, /^GOOGLE_AUTH_EMAIL is not set: /],
    [{ ...GOOGLE, GOOGLE_PROJECT_ID: '' }, /^GOOGLE_PROJECT_ID is not set: /],
  ])('a missing variable is named: %o', (env, message) => {
    expect(missing(env)).toMatch(message);
  });
  it('GOOGLE_AUTH_EMAIL must be the key account, as gcloud checks', () => {
    expect(() => plan({ ...GOOGLE, GOOGLE_AUTH_EMAIL: 'other@proj.iam.gserviceaccount.com' })).toThrow(
      /^GOOGLE_AUTH_EMAIL is other@proj\.iam\.gserviceaccount\.com but the key in GOOGLE_AUTH_JSON is for ci@/,
    );
  });
});

// The variables of codeship/dockercfg-generator's README.
describe('the static image with the Codeship variables', () => {
  it('DOCKER_REGISTRY defaults to Docker Hub, as Codeship did', () => {
    expect(hostsOf({ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p' })).toEqual([
      ['static', 'https://index.docker.io/v1/'],
    ]);
    expect(hostsOf({ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p', DOCKER_REGISTRY: 'https://quay.io' })).toEqual([
      ['static', 'https://quay.io'],
    ]);
  });

  it('DOCKER_REGISTRY names one registry: a list is refused, pointing at BERTH_REGISTRIES', () => {
    expect(() =>
      plan({ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p', DOCKER_REGISTRY: 'ghcr.io,quay.io' }),
    ).toThrow(/^DOCKER_REGISTRY=ghcr\.io,quay\.io names more than one registry$/);
  });
});
