import { describe, expect, it } from 'vitest';
import type { Config, ProviderName, RegistryConfig } from '../../../core/config/load.js';
import { AllFailedError, ProviderError, UsageError } from '../../../core/errors.js';
import { pickRegistry, resolveRegistry, resolveServerURL, withRetry, type ResolveContext } from '../../../core/resolve/resolve.js';
import { FakeProvider, fakeProviderTable } from '../../fakes/provider.js';

const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const FAST = { retries: 2, minTimeoutMs: 1, maxTimeoutMs: 5 };
const detect = (serverURL: string): ProviderName | undefined =>
  serverURL.replace(/^https:\/\//, '').split('/')[0] === ECR_HOST ? 'ecr' : undefined;

function context(config: Config, cloud: FakeProvider, extra: Partial<ResolveContext> = {}): ResolveContext {
  return { env: {}, config, now: () => Date.UTC(2026, 0, 1), providers: fakeProviderTable(cloud), detect, retry: FAST, ...extra };
}

const registries: RegistryConfig[] = [
  { name: 'ghcr', provider: 'static', host: 'ghcr.io' },
  { name: 'team-a', provider: 'static', host: 'ghcr.io', prefix: 'acme/team-a' },
  { name: 'team-ab', provider: 'static', host: 'ghcr.io', prefix: 'acme/team-a/b' },
  { name: 'quay-1', provider: 'static', host: 'quay.io' },
  { name: 'quay-2', provider: 'static', host: 'https://quay.io/', default: true },
  { name: 'hub', provider: 'static', host: 'docker.io' },
];

describe('pickRegistry', () => {
  const cases: [string, string | undefined][] = [
    ['ghcr.io', 'ghcr'],
    ['https://ghcr.io', 'ghcr'],
    ['ghcr.io/acme/team-a', 'team-a'],
    ['ghcr.io/acme/team-a/app', 'team-a'],
    ['ghcr.io/acme/team-a/b/app', 'team-ab'],
    ['ghcr.io/acme/team-ab', 'ghcr'], // a prefix matches whole path segments only
    ['quay.io', 'quay-2'], // several entries for one host: the default wins
    ['https://index.docker.io/v1/', 'hub'], // Hub aliases are one registry; /v1/ is no repository
    ['https://ghcr.io/v2/', 'ghcr'],
    ['registry-1.docker.io', 'hub'],
    ['example.com', undefined],
    ['', undefined],
  ];
  it.each(cases)('%s → %s', (serverURL, expected) => {
    expect(pickRegistry(serverURL, { registries }, detect)?.name).toBe(expected);
  });

  it('recognises a cloud host that is not configured', () => {
    expect(pickRegistry(`https://${ECR_HOST}`, {}, detect)).toEqual({ name: ECR_HOST, provider: 'ecr', host: ECR_HOST });
  });

  it('prefers a configured entry over auto-detection', () => {
    const config = { registries: [{ name: 'prod', provider: 'ecr' as const, host: ECR_HOST, options: { profile: 'prod' } }] };
    expect(pickRegistry(ECR_HOST, config, detect)?.name).toBe('prod');
  });

  it('uses a scoped entry for a bare host when it is the only one', () => {
    const config = { registries: [{ name: 'scoped', provider: 'static' as const, host: 'r.example', prefix: 'x' }] };
    expect(pickRegistry('r.example', config, detect)?.name).toBe('scoped');
  });
});

describe('resolveRegistry', () => {
  it('returns the provider credential for an auto-detected host', async () => {
    const cloud = new FakeProvider({ lifetimeMs: 3_600_000 });
    const resolved = await resolveServerURL(ECR_HOST, context({}, cloud));
    expect(resolved?.credential).toMatchObject({ username: 'AWS', secret: `token-${ECR_HOST}-1` });
    expect(await resolveServerURL('example.com', context({}, cloud))).toBeUndefined();
    expect(cloud.callCount()).toBe(1);
  });

  it('retries a failing provider and succeeds on the third attempt', async () => {
    const cloud = new FakeProvider();
    cloud.failNext(ECR_HOST, 2);
    const progress: string[] = [];
    const resolved = await resolveServerURL(ECR_HOST, context({}, cloud, { onProgress: (line) => progress.push(line) }));
    expect(resolved?.credential.secret).toBe(`token-${ECR_HOST}-3`);
    expect(progress.filter((line) => line.includes('retrying'))).toHaveLength(2);
  });

  it('gives up after the bounded retries and keeps the reason', async () => {
    const cloud = new FakeProvider();
    cloud.failNext(ECR_HOST, Infinity, 'reset', 'ECR is unreachable');
    const error = await resolveServerURL(ECR_HOST, context({}, cloud)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AllFailedError);
    expect((error as Error).message).toBe(`no credentials for ${ECR_HOST}: ecr: ECR is unreachable`);
    expect(cloud.calls.get(ECR_HOST)).toBe(3);
  });

  it.each([
    ['reset', 3],
    ['refused', 3],
    ['server-error', 3],
    ['throttled', 3],
    ['denied', 1],
  ] as const)('a %s failure is tried %i time(s)', async (failure, calls) => {
    const cloud = new FakeProvider();
    cloud.failNext(ECR_HOST, Infinity, failure);
    const error = await resolveServerURL(ECR_HOST, context({}, cloud)).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(AllFailedError);
    expect(cloud.callCount(ECR_HOST)).toBe(calls);
  });

  it('does not retry bad settings', async () => {
    let calls = 0;
    const table = fakeProviderTable(new FakeProvider());
    table.static = async () => ({
      provider: async () => {
        calls += 1;
        throw new UsageError('option "username" is missing');
      },
    });
    const registry: RegistryConfig = { name: 'r', provider: 'static', host: 'r.example' };
    const error = await resolveRegistry(registry, context({ registries: [registry] }, new FakeProvider(), { providers: table })).catch(
      (e: unknown) => e,
    );
    expect(calls).toBe(1);
    expect((error as AllFailedError).message).toBe('no credentials for r.example: r (static): option "username" is missing');
  });

  it('stands in the fallback when the primary keeps failing, keeping every reason if both fail', async () => {
    const primary = new FakeProvider();
    const backup = new FakeProvider({ username: 'robot' });
    const config: Config = {
      registries: [
        { name: 'prod', provider: 'ecr', host: ECR_HOST, fallback: 'backup' },
        { name: 'backup', provider: 'static', host: ECR_HOST, prefix: 'never-matched' },
      ],
    };
    primary.failNext(ECR_HOST, Infinity, 'reset', 'ECR is down');
    const ctx = context(config, primary, { providers: fakeProviderTable(primary, { static: backup }) });
    const resolved = await resolveServerURL(ECR_HOST, ctx);
    expect(resolved).toMatchObject({ registry: { name: 'prod' }, from: { name: 'backup' }, credential: { username: 'robot' } });

    backup.failNext(ECR_HOST, Infinity, 'reset', 'robot token revoked');
    const error = (await resolveServerURL(ECR_HOST, ctx).catch((e: unknown) => e)) as AllFailedError;
    expect(error.reasons.map((reason) => reason.message)).toEqual(['prod (ecr): ECR is down', 'backup (static): robot token revoked']);
  });

  it('with followFallbacks false, reports the primary failure without asking the fallback', async () => {
    const cloud = new FakeProvider();
    cloud.failNext('a.example', Infinity, 'reset', 'a is down');
    const config: Config = {
      registries: [
        { name: 'a', provider: 'static', host: 'a.example', fallback: 'b' },
        { name: 'b', provider: 'static', host: 'b.example' },
      ],
    };
    const ctx = { ...context(config, cloud), followFallbacks: false };
    const error = (await resolveServerURL('a.example', ctx).catch((e: unknown) => e)) as AllFailedError;
    expect(error.reasons.map((reason) => reason.message)).toEqual(['a (static): a is down']);
    expect(cloud.callCount()).toBe(3);
  });

  it('asks each registry of a fallback cycle once', async () => {
    const cloud = new FakeProvider();
    cloud.failNext('a.example', Infinity);
    cloud.failNext('b.example', Infinity);
    const config: Config = {
      registries: [
        { name: 'a', provider: 'static', host: 'a.example', fallback: 'b' },
        { name: 'b', provider: 'static', host: 'b.example', fallback: 'a' },
      ],
    };
    const error = (await resolveServerURL('a.example', context(config, cloud)).catch((e: unknown) => e)) as AllFailedError;
    expect(error.reasons).toHaveLength(2);
    expect(cloud.callCount()).toBe(6);
  });
});

describe('withRetry', () => {
  it('makes retries + 1 attempts at most', async () => {
    let attempts = 0;
    const failing = async () => {
      attempts += 1;
      throw new Error(`attempt ${attempts}`);
    };
    await expect(withRetry(failing, { retries: 3, minTimeoutMs: 1, maxTimeoutMs: 2 })).rejects.toThrow('attempt 4');
    expect(attempts).toBe(4);
  });
});

describe('withRetry: what is worth retrying', () => {
  const serviceError = (fields: Record<string, unknown>) => Object.assign(new Error('refused'), fields);
  it.each([
    ['an AWS client fault (AccessDenied)', serviceError({ $fault: 'client', $metadata: { httpStatusCode: 403 } }), 1],
    ['a 401 from a token endpoint', serviceError({ status: 401 }), 1],
    ['missing AWS credentials', serviceError({ name: 'CredentialsProviderError' }), 1],
    ['AWS throttling', serviceError({ $fault: 'client', $retryable: { throttling: true } }), 3],
    ['a 503', serviceError({ statusCode: 503 }), 3],
    ['a 429', serviceError({ status: 429 }), 3],
    ['a connection reset', serviceError({ code: 'ECONNRESET' }), 3],
  ])('%s: %i attempt(s), looking through the provider error to its cause', async (_what, cause, attempts) => {
    let count = 0;
    const failing = async () => {
      count += 1;
      throw new Error('wrapped by the provider', { cause });
    };
    await expect(withRetry(failing, FAST)).rejects.toThrow('wrapped by the provider');
    expect(count).toBe(attempts);
  });
});

describe('resolveRegistry: hints and verdicts', () => {
  it('keeps the provider hint, and does not retry a provider verdict with no cause', async () => {
    let calls = 0;
    const table = fakeProviderTable(new FakeProvider());
    table.static = async () => ({
      provider: async () => {
        calls += 1;
        throw new ProviderError('password variable DOCKER_PASSWORD is not set', { hint: 'export DOCKER_PASSWORD' });
      },
    });
    const registry: RegistryConfig = { name: 'hub', provider: 'static', host: 'docker.io' };
    const error = (await resolveRegistry(registry, context({ registries: [registry] }, new FakeProvider(), { providers: table })).catch(
      (e: unknown) => e,
    )) as AllFailedError;
    expect(error.message).toBe(
      'no credentials for https://index.docker.io/v1/: hub (static): password variable DOCKER_PASSWORD is not set',
    );
    expect(error.hint).toBe('export DOCKER_PASSWORD');
    expect(calls).toBe(1);
  });
});
