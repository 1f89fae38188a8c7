import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.js';
import { ecrPublicCacheIdentity, ecrPublicProvider } from '../../../core/providers/ecr-public.js';
import { NotMyRegistryError } from '../../../core/providers/provider.js';
import { TEST_KEY } from '../../fakes/aws.js';
import { AWS_ENV_KEYS, useFakeAws } from '../../fakes/aws-session.js';

const ROLE = 'arn:aws:iam::123456789012:role/publisher';

const aws = useFakeAws('berth-ecr-public-', 'public.ecr.aws');
const request = aws.request;

describe('ecrPublicProvider', () => {
  it('gets a token from ECR Public, always signed for us-east-1', async () => {
    aws.fake.setToken({ username: 'AWS', password: 'public-password', lifetimeSeconds: 3600 });
    const credential = await ecrPublicProvider(request({ ...AWS_ENV_KEYS, AWS_REGION: 'eu-west-1' }));
    expect(credential).toMatchObject({ username: 'AWS', secret: 'public-password' });
    expect(Math.abs(credential.expiresAt!.getTime() - (Date.now() + 3600_000))).toBeLessThan(60_000);
    expect(aws.fake.requests).toEqual([
      {
        service: 'ecr-public',
        action: 'GetAuthorizationToken',
        signingRegion: 'us-east-1',
        principal: TEST_KEY.arn,
        outcome: 'ok',
      },
    ]);
  });

  it('serves the dual-stack host ecr-public.aws.com the same way', async () => {
    await ecrPublicProvider(request(AWS_ENV_KEYS, {}, 'ecr-public.aws.com'));
    expect(aws.fake.requests[0]).toMatchObject({ service: 'ecr-public', signingRegion: 'us-east-1', outcome: 'ok' });
  });

  it('reads a named profile', async () => {
    const credentials = join(aws.home, 'credentials');
    await writeFile(
      credentials,
      `[pub]\naws_access_key_id = ${TEST_KEY.accessKeyId}\naws_secret_access_key = ${TEST_KEY.secretAccessKey}\n`,
    );
    await ecrPublicProvider(
      request({ AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: join(aws.home, 'config') }, { profile: 'pub' }),
    );
    expect(aws.fake.requests[0]).toMatchObject({ principal: TEST_KEY.arn, outcome: 'ok' });
  });

  it('assumes a role, in us-east-1', async () => {
    aws.fake.addRole(ROLE);
    await ecrPublicProvider(request(AWS_ENV_KEYS, { roleArn: ROLE }));
    expect(aws.fake.requests.map((r) => [r.service, r.signingRegion, r.principal])).toEqual([
      ['sts', 'us-east-1', TEST_KEY.arn],
      ['ecr-public', 'us-east-1', 'arn:aws:sts::123456789012:assumed-role/publisher/berth'],
    ]);
  });

  it('needs AWS_STS_ACCOUNT for a bare AWS_STS_ROLE name (the host names no account)', async () => {
    const err = await ecrPublicProvider(request({ ...AWS_ENV_KEYS, AWS_STS_ROLE: 'publisher' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toBe('AWS_STS_ROLE names role "publisher" but no account');
    expect((err as ProviderError).hint).toContain('AWS_STS_ACCOUNT');
  });

  it('reports a wrong secret in one line naming the registry', async () => {
    const err = await ecrPublicProvider(request({ ...AWS_ENV_KEYS, AWS_SECRET_ACCESS_KEY: 'wrong' })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect((err as ProviderError).message).toMatch(/^InvalidSignatureException: The request signature we calculated/);
  });

  it('takes no region option: the API lives in us-east-1 only', async () => {
    const err = await ecrPublicProvider(request(AWS_ENV_KEYS, { region: 'eu-west-1' })).catch((e: unknown) => e);
    expect((err as ProviderError).message).toBe('bad option "region"');
    expect(aws.fake.requests).toEqual([]);
  });

  it('leaves other hosts to the next provider', async () => {
    await expect(ecrPublicProvider(request(AWS_ENV_KEYS, {}, '123456789012.dkr.ecr.us-east-1.amazonaws.com'))).rejects.toBeInstanceOf(
      NotMyRegistryError,
    );
    await expect(ecrPublicProvider(request(AWS_ENV_KEYS, {}, 'public.ecr.aws.evil.example'))).rejects.toBeInstanceOf(NotMyRegistryError);
  });

  it('keys the cache by registry and role, not by key', () => {
    expect(ecrPublicCacheIdentity(request(AWS_ENV_KEYS))).toBe('ecr-public:public.ecr.aws;region=us-east-1');
    expect(ecrPublicCacheIdentity(request(AWS_ENV_KEYS, { roleArn: ROLE }))).toBe(
      `ecr-public:public.ecr.aws;region=us-east-1;role=${ROLE}`,
    );
  });
});
