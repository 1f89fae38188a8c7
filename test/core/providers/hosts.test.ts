import { describe, expect, it } from 'vitest';
import {
  detectProvider,
  foreignHostReason,
  isEcrPublicHost,
  parseAcrHost,
  parseEcrHost,
  parseGoogleHost,
} from '../../../core/providers/hosts.js';

const ecr = (accountId: string, region: string, partitionDomain: string, fips = false, dualStack = false) => ({
  accountId,
  region,
  fips,
  dualStack,
  partitionDomain,
});

describe('parseEcrHost', () => {
  const real: [string, ReturnType<typeof ecr>][] = [
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com', ecr('123456789012', 'us-east-1', 'amazonaws.com')],
    ['https://123456789012.dkr.ecr.us-east-1.amazonaws.com/v2/blah/blah', ecr('123456789012', 'us-east-1', 'amazonaws.com')],
    ['123456789012.dkr.ecr.us-west-2.amazonaws.com/', ecr('123456789012', 'us-west-2', 'amazonaws.com')],
    ['123456789012.DKR.ECR.EU-WEST-1.AMAZONAWS.COM', ecr('123456789012', 'eu-west-1', 'amazonaws.com')],
    ['123456789012.dkr.ecr.us-east-1.amazonaws.com:443', ecr('123456789012', 'us-east-1', 'amazonaws.com')],
    ['210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn/foo', ecr('210987654321', 'cn-north-1', 'amazonaws.com.cn')],
    ['210987654321.dkr.ecr.cn-northwest-1.amazonaws.com.cn', ecr('210987654321', 'cn-northwest-1', 'amazonaws.com.cn')],
    ['123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com', ecr('123456789012', 'us-gov-west-1', 'amazonaws.com', true)],
    ['123456789012.dkr.ecr.us-gov-east-1.amazonaws.com', ecr('123456789012', 'us-gov-east-1', 'amazonaws.com')],
    ['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', ecr('123456789012', 'us-east-2', 'amazonaws.com', true)],
    ['123456789012.dkr-ecr.ap-southeast-2.on.aws', ecr('123456789012', 'ap-southeast-2', 'on.aws', false, true)],
    ['123456789012.dkr-ecr-fips.us-east-1.on.aws', ecr('123456789012', 'us-east-1', 'on.aws', true, true)],
    [
      '210987654321.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn',
      ecr('210987654321', 'cn-north-1', 'on.amazonwebservices.com.cn', false, true),
    ],
    ['123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu', ecr('123456789012', 'eusc-de-east-1', 'amazonaws.eu')],
    ['123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov', ecr('123456789012', 'us-iso-east-1', 'c2s.ic.gov')],
    ['123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov', ecr('123456789012', 'us-isob-east-1', 'sc2s.sgov.gov')],
    ['123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk', ecr('123456789012', 'eu-isoe-west-1', 'cloud.adc-e.uk')],
    ['123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov', ecr('123456789012', 'us-isof-south-1', 'csp.hci.ic.gov')],
  ];
  it.each(real)('parses %s', (host, expected) => {
    expect(parseEcrHost(host)).toEqual(expected);
    expect(detectProvider(host)).toBe('ecr');
  });

  const lookAlikes = [
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.example',
    'dkr.ecr.us-east-1.amazonaws.com.evil.example',
    'evil.example/123456789012.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com@evil.example',
    'x123456789012.dkr.ecr.us-east-1.amazonaws.com',
    'evil.123456789012.dkr.ecr.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.comx',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com.',
    '123456789012.dkr.ecr.us-east-1.notamazonaws.com',
    '123456789012.dkr.ecr.us-east-1.amazonaws.com:5000',
    '12345678901.dkr.ecr.us-east-1.amazonaws.com',
    '1234567890123.dkr.ecr.us-east-1.amazonaws.com',
    'abcdefghijkl.dkr.ecr.us-east-1.amazonaws.com',
    '.dkr.ecr.not-real.amazonaws.com',
    '123456789012.dkr.ecr..amazonaws.com',
    '123456789012.dkr.ecr.us_east_1.amazonaws.com',
    '123456789012.dkr.ecr-gov.us-east-1.amazonaws.com',
    '123456789012.dkr.ecr.us-east-1.on.aws.evil.example',
    '123456789012.ecr.us-east-1.amazonaws.com',
    'api.ecr.us-east-1.amazonaws.com',
    'not.ecr.io',
    '',
  ];
  it.each(lookAlikes)('rejects %j', (host) => {
    expect(parseEcrHost(host)).toBeUndefined();
    expect(detectProvider(host)).toBeUndefined();
  });
});

describe('isEcrPublicHost', () => {
  it.each(['public.ecr.aws', 'https://public.ecr.aws/v2/', 'public.ecr.aws/nginx/nginx', 'ecr-public.aws.com', 'PUBLIC.ECR.AWS'])(
    'accepts %s',
    (host) => {
      expect(isEcrPublicHost(host)).toBe(true);
      expect(detectProvider(host)).toBe('ecr-public');
    },
  );
  it.each([
    'public.ecr.aws.evil.example',
    'evilpublic.ecr.aws',
    'x.public.ecr.aws',
    'ecr-public.aws.com.evil',
    'public.ecr.aws:8443',
    'ecr.aws',
  ])('rejects %s', (host) => {
    expect(isEcrPublicHost(host)).toBe(false);
    expect(detectProvider(host)).toBeUndefined();
  });
});

describe('parseGoogleHost', () => {
  const real: [string, ReturnType<typeof parseGoogleHost>][] = [
    ['gcr.io', { service: 'gcr', location: undefined, regionalEndpoint: false }],
    ['https://gcr.io/v2/my-project/app', { service: 'gcr', location: undefined, regionalEndpoint: false }],
    ['us.gcr.io', { service: 'gcr', location: 'us', regionalEndpoint: false }],
    ['eu.gcr.io', { service: 'gcr', location: 'eu', regionalEndpoint: false }],
    ['asia.gcr.io', { service: 'gcr', location: 'asia', regionalEndpoint: false }],
    ['marketplace.gcr.io', { service: 'gcr', location: 'marketplace', regionalEndpoint: false }],
    ['us-central1-docker.pkg.dev', { service: 'artifact-registry', location: 'us-central1', regionalEndpoint: false }],
    ['europe-west4-docker.pkg.dev/p/r', { service: 'artifact-registry', location: 'europe-west4', regionalEndpoint: false }],
    ['us-docker.pkg.dev', { service: 'artifact-registry', location: 'us', regionalEndpoint: false }],
    [
      'northamerica-northeast1-docker.pkg.dev',
      { service: 'artifact-registry', location: 'northamerica-northeast1', regionalEndpoint: false },
    ],
    ['docker.us-central1.rep.pkg.dev', { service: 'artifact-registry', location: 'us-central1', regionalEndpoint: true }],
    ['docker.me-central2.rep.pkg.dev', { service: 'artifact-registry', location: 'me-central2', regionalEndpoint: true }],
  ];
  it.each(real)('parses %s', (host, expected) => {
    expect(parseGoogleHost(host)).toEqual(expected);
    expect(detectProvider(host)).toBe('google');
  });
  it.each([
    'gcr.io.evil.example',
    'evilgcr.io',
    'evil.gcr.io',
    'us.gcr.io.evil',
    'gcr.io:5000',
    'us-central1-docker.pkg.dev.evil.example',
    'us-central1-docker.pkg.dev@evil.example',
    'evil.us-central1-docker.pkg.dev',
    'docker.pkg.dev',
    '-docker.pkg.dev',
    'us-central1-maven.pkg.dev',
    'docker.us-central1.rep.pkg.dev.evil',
    'docker..rep.pkg.dev',
    'pkg.dev',
  ])('rejects %s', (host) => {
    expect(parseGoogleHost(host)).toBeUndefined();
    expect(detectProvider(host)).toBeUndefined();
  });
});

describe('parseAcrHost', () => {
  it.each([
    ['myregistry.azurecr.io', { registryName: 'myregistry', cloud: 'AzureCloud', domainSuffix: 'azurecr.io' }],
    ['https://MyRegistry.azurecr.io/v2/', { registryName: 'myregistry', cloud: 'AzureCloud', domainSuffix: 'azurecr.io' }],
    ['myregistry-abc123hash.azurecr.io', { registryName: 'myregistry-abc123hash', cloud: 'AzureCloud', domainSuffix: 'azurecr.io' }],
    ['reg.azurecr.cn', { registryName: 'reg', cloud: 'AzureChinaCloud', domainSuffix: 'azurecr.cn' }],
    ['reg.azurecr.us', { registryName: 'reg', cloud: 'AzureUSGovernment', domainSuffix: 'azurecr.us' }],
    ['reg.azurecr.de', { registryName: 'reg', cloud: 'AzureGermanCloud', domainSuffix: 'azurecr.de' }],
    ['reg.azurecr.io:443', { registryName: 'reg', cloud: 'AzureCloud', domainSuffix: 'azurecr.io' }],
  ] as const)('parses %s', (host, expected) => {
    expect(parseAcrHost(host)).toEqual(expected);
    expect(detectProvider(host)).toBe('azure');
  });
  it.each([
    'evilazurecr.io',
    'azurecr.io',
    'x.azurecr.io.evil',
    'x.azurecr.io.evil.example',
    'x.azurecr.io@evil.example',
    'evil.example/x.azurecr.io',
    'a.b.azurecr.io',
    'x.azurecr.com',
    'x.azurecr.io:5000',
    '-x.azurecr.io',
    'x_y.azurecr.io',
  ])('rejects %s', (host) => {
    expect(parseAcrHost(host)).toBeUndefined();
    expect(detectProvider(host)).toBeUndefined();
  });
});

describe('detectProvider', () => {
  it.each(['docker.io', 'https://index.docker.io/v1/', 'ghcr.io', 'quay.io', 'localhost:5000', '127.0.0.1:5000'])(
    'names no cloud for %s',
    (host) => {
      expect(detectProvider(host)).toBeUndefined();
    },
  );
});

describe('foreignHostReason', () => {
  it.each([
    ['google', 'gcr.io', {}, undefined],
    ['google', 'europe-west1-docker.pkg.dev', {}, undefined],
    ['google', 'mirror.corp.example', {}, 'google: mirror.corp.example is not a Google registry'],
    ['google', 'gcr.io.evil.example', {}, 'google: gcr.io.evil.example is not a Google registry'],
    ['google', 'mirror.corp.example', { allowAnyHost: true }, undefined],
    ['google', 'mirror.corp.example', { allowAnyHost: 'true' }, undefined],
    ['google', 'mirror.corp.example', { allowAnyHost: false }, 'google: mirror.corp.example is not a Google registry'],
    ['azure', 'myregistry.azurecr.io', {}, undefined],
    ['azure', 'evilazurecr.io', {}, 'azure: evilazurecr.io is not an Azure container registry'],
    ['azure', 'myregistry.azurecr.io.evil.example', {}, 'azure: myregistry.azurecr.io.evil.example is not an Azure container registry'],
    ['azure', 'proxy.corp.example', { allowAnyHost: true }, undefined],
    ['ecr', 'ghcr.io', { allowAnyHost: true }, 'ecr: ghcr.io is not an ECR registry'],
    ['ecr-public', 'public.ecr.aws', {}, undefined],
  ] as const)('%s %s %o', (provider, host, options, message) => {
    const reason = foreignHostReason(provider, host, options);
    if (message === undefined) expect(reason).toBeUndefined();
    else expect(reason?.message.startsWith(message)).toBe(true);
  });
});
