import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.js';
import { awsPartition, awsSettings } from '../../../core/providers/aws-settings.js';
import type { ProviderRequest } from '../../../core/providers/provider.js';

const HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const request = (options: ProviderRequest['options'], env: Record<string, string> = {}): ProviderRequest => ({
  registryHost: HOST,
  options,
  env,
  now: () => 0,
});

describe('awsPartition', () => {
  it.each([
    ['us-east-1', 'aws'],
    ['eu-west-3', 'aws'],
    ['cn-north-1', 'aws-cn'],
    ['us-gov-west-1', 'aws-us-gov'],
    ['us-iso-east-1', 'aws-iso'],
    ['us-isob-east-1', 'aws-iso-b'],
    ['eu-isoe-west-1', 'aws-iso-e'],
    ['us-isof-south-1', 'aws-iso-f'],
    ['eusc-de-east-1', 'aws-eusc'],
  ])('%s is in %s', (region, partition) => {
    expect(awsPartition(region)).toBe(partition);
  });
});

describe('awsSettings', () => {
  const target = { region: 'us-east-1', accountId: '123456789012' };

  it('takes the region from the host and the profile from AWS_PROFILE', () => {
    expect(awsSettings('ecr', request({}, { AWS_PROFILE: 'dev' }), target)).toEqual({
      region: 'us-east-1',
      profile: 'dev',
      roleArn: undefined,
      externalId: undefined,
      roleSessionName: undefined,
    });
  });

  it('lets options win over the environment', () => {
    const env = { AWS_PROFILE: 'dev', AWS_STS_ROLE: 'arn:aws:iam::1:role/env' };
    const settings = awsSettings('ecr', request({ profile: 'prod', roleArn: 'arn:aws:iam::2:role/opt', region: 'us-west-1' }, env), target);
    expect(settings).toMatchObject({ profile: 'prod', roleArn: 'arn:aws:iam::2:role/opt', region: 'us-west-1' });
  });

  it('builds a bare AWS_STS_ROLE in the registry account and partition', () => {
    const china = { region: 'cn-north-1', accountId: '210987654321' };
    expect(awsSettings('ecr', request({}, { AWS_STS_ROLE: 'pull' }), china).roleArn).toBe('arn:aws-cn:iam::210987654321:role/pull');
    expect(awsSettings('ecr', request({}, { AWS_STS_ROLE: 'pull', AWS_STS_ACCOUNT: '999999999999' }), target).roleArn).toBe(
      'arn:aws:iam::999999999999:role/pull',
    );
  });

  it.each<ProviderRequest['options']>([{ profile: 3 }, { profile: '' }, { roleArn: true }, { role: 'x' }])(
    'refuses options %j',
    (options) => {
      expect(() => awsSettings('ecr', request(options), target)).toThrow(ProviderError);
    },
  );
});

describe('lazy SDK loading', () => {
  // The helper imports the providers on every `get`; the SDK must stay in chunks loaded on demand.
  it('keeps every AWS SDK module out of the providers’ own chunk', async () => {
    const result = await build({
      entryPoints: { ecr: 'core/providers/ecr.ts', 'ecr-public': 'core/providers/ecr-public.ts' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      outdir: '/nonexistent',
      write: false,
      metafile: true,
      logLevel: 'silent',
      external: ['@napi-rs/keyring'],
    });
    const entries = new Set(['core/providers/ecr.ts', 'core/providers/ecr-public.ts']);
    const byPath = result.metafile.outputs;
    const staticClosure = new Set<string>();
    const visit = (path: string) => {
      if (staticClosure.has(path)) return;
      staticClosure.add(path);
      for (const dep of byPath[path]?.imports ?? []) if (dep.kind === 'import-statement') visit(dep.path);
    };
    for (const [path, output] of Object.entries(byPath)) if (entries.has(output.entryPoint ?? '')) visit(path);
    expect(staticClosure.size).toBeGreaterThanOrEqual(2);
    const loadedAtStart = [...staticClosure].flatMap((path) => Object.keys(byPath[path]?.inputs ?? {}));
    expect(loadedAtStart.filter((input) => /@aws-sdk|@smithy|https-proxy-agent/.test(input))).toEqual([]);
    expect(loadedAtStart.some((input) => input.includes('hosts.ts'))).toBe(true);
  });
});
