/**
 * @module
 * Amazon ECR Public (`public.ecr.aws`, `ecr-public.aws.com`): a token from ECR Public's
 * `GetAuthorizationToken`, whose API exists only in us-east-1. Pulls need no token; pushes and
 * higher pull rate limits do. Settings come from the registry's options (`profile`, `roleArn`,
 * `externalId`, `roleSessionName`) and the environment.
 */
import { loadPackage } from '../io/packages.js';
import { fetchAwsToken } from './aws.js';
import { type AwsSettings, awsCacheIdentity, awsSettings } from './aws-settings.js';
import { isEcrPublicHost } from './hosts.js';
import { NotMyRegistryError, type Provider, type ProviderModule, type ProviderRequest } from './provider.js';

const ECR_PUBLIC_REGION = 'us-east-1';

function ecrPublicSettings(request: ProviderRequest): AwsSettings {
  if (!isEcrPublicHost(request.registryHost)) {
    throw new NotMyRegistryError('not an ECR Public host');
  }
  return awsSettings('ecr-public', request, { region: ECR_PUBLIC_REGION });
}

/** The key under which a cache may keep this request's token (see `awsCacheIdentity`). */
export function ecrPublicCacheIdentity(request: ProviderRequest): string {
  return awsCacheIdentity('ecr-public', request.registryHost, ecrPublicSettings(request));
}

export const ecrPublicProvider: Provider = async (request) => {
  const settings = ecrPublicSettings(request);
  return fetchAwsToken('ecr-public', request, settings, async (config) => {
    const { ECRPUBLICClient, GetAuthorizationTokenCommand } = await loadPackage('@aws-sdk/client-ecr-public');
    const client = new ECRPUBLICClient(config);
    try {
      const output = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: request.signal });
      return output.authorizationData;
    } finally {
      client.destroy();
    }
  });
};

/** What the registration table (./index.ts) loads. */
export default { provider: ecrPublicProvider, identity: ecrPublicCacheIdentity } satisfies ProviderModule;
