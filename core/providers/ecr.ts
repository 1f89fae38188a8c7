/**
 * @module
 * Amazon ECR private registries (`<account>.dkr.ecr.<region>.amazonaws.com` and the other forms
 * `parseEcrHost` knows): a token from `GetAuthorizationToken` in the registry's region, with the
 * caller's AWS credentials, optionally through an assumed role. Settings come from the registry's
 * options (`profile`, `roleArn`, `externalId`, `roleSessionName`, `region`) and the environment.
 */
import { importPackage } from '../io/import-package.js';
import { fetchAwsToken } from './aws.js';
import { type AwsSettings, awsCacheIdentity, awsSettings } from './aws-settings.js';
import { parseEcrHost } from './hosts.js';
import { NotMyRegistryError, type Provider, type ProviderModule, type ProviderRequest } from './provider.js';

function ecrRequest(request: ProviderRequest): { settings: AwsSettings; fips: boolean; dualStack: boolean } {
  const host = parseEcrHost(request.registryHost);
  if (!host) throw new NotMyRegistryError('not an ECR registry host');
  return { settings: awsSettings('ecr', request, host), fips: host.fips, dualStack: host.dualStack };
}

/** The key under which a cache may keep this request's token (see `awsCacheIdentity`). */
export function ecrCacheIdentity(request: ProviderRequest): string {
  return awsCacheIdentity('ecr', request.registryHost, ecrRequest(request).settings);
}

export const ecrProvider: Provider = async (request) => {
  const { settings, fips, dualStack } = ecrRequest(request);
  return fetchAwsToken('ecr', request, settings, async (config, target) => {
    const { ECRClient, GetAuthorizationTokenCommand } = await importPackage(import('@aws-sdk/client-ecr'));
    const client = new ECRClient({
      ...config,
      ...(target.awsEndpoint && { useFipsEndpoint: fips, useDualstackEndpoint: dualStack }),
    });
    try {
      // No registryIds (deprecated): the token works for every registry the identity may pull from.
      const output = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: request.signal });
      return output.authorizationData?.[0];
    } finally {
      client.destroy();
    }
  });
};

/** What the registration table (./index.ts) loads. */
export default { provider: ecrProvider, identity: ecrCacheIdentity } satisfies ProviderModule;
