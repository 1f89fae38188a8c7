/**
 * @module
 * Amazon ECR private registries (`<account>.dkr.ecr.<region>.amazonaws.com` and the other forms
 * `parseEcrHost` knows): a token from `GetAuthorizationToken` in the registry's region, with the
 * caller's AWS credentials, optionally through an assumed role. Settings come from the registry's
 * options (`profile`, `roleArn`, `externalId`, `roleSessionName`, `region`) and the environment.
 */
import { loadPackage } from '../io/packages.js';
import { ProviderError } from '../errors.js';
import { registryHost as registryHostOf } from '../registry-host.js';
import { type AuthorizationData, type AwsClientConfig, fetchAwsToken } from './aws.js';
import { type AwsSettings, awsCacheIdentity, awsSettings } from './aws-settings.js';
import { parseEcrHost } from './hosts.js';
import { type Credential, NotMyRegistryError, type Provider, type ProviderModule, type ProviderRequest } from './provider.js';

function ecrRequest(request: ProviderRequest): { settings: AwsSettings; fips: boolean; dualStack: boolean } {
  const host = parseEcrHost(request.registryHost);
  if (!host) throw new NotMyRegistryError('not an ECR registry host');
  return { settings: awsSettings('ecr', request, host), fips: host.fips, dualStack: host.dualStack };
}

/** The key under which a cache may keep this request's token (see `awsCacheIdentity`). */
export function ecrCacheIdentity(request: ProviderRequest): string {
  return awsCacheIdentity('ecr', request.registryHost, ecrRequest(request).settings);
}

type EcrAuthorizationData = AuthorizationData & { proxyEndpoint?: string };

async function getAuthorizationData(
  config: AwsClientConfig,
  variants: { useFipsEndpoint?: boolean; useDualstackEndpoint?: boolean },
  signal: AbortSignal | undefined,
): Promise<EcrAuthorizationData | undefined> {
  const { ECRClient, GetAuthorizationTokenCommand } = await loadPackage('@aws-sdk/client-ecr');
  const client = new ECRClient({ ...config, ...variants });
  try {
    // No registryIds (deprecated): the token works for every registry the identity may pull from.
    const output = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: signal });
    return output.authorizationData?.[0];
  } finally {
    client.destroy();
  }
}

export const ecrProvider: Provider = async (request) => {
  const { settings, fips, dualStack } = ecrRequest(request);
  return fetchAwsToken('ecr', request, settings, (config, target) =>
    getAuthorizationData(config, target.awsEndpoint ? { useFipsEndpoint: fips, useDualstackEndpoint: dualStack } : {}, request.signal),
  );
};

/**
 * The caller's own registry in `region` and a token for it: GetAuthorizationToken without registry
 * ids answers with the registry of the account that asks (`proxyEndpoint`). For callers that know
 * only a region and keys, as Codeship's ECR generator did.
 */
export async function ecrOwnRegistry(
  request: Omit<ProviderRequest, 'registryHost'>,
  region: string,
): Promise<{ registryHost: string; credential: Credential }> {
  // Called by the generator without the resolver, so it names what it asked for itself, once.
  const what = `no credentials for the caller's own ECR registry in ${region}`;
  const described = { ...request, registryHost: `the caller's own registry in ${region}` };
  let proxyEndpoint: string | undefined;
  let credential: Credential;
  try {
    const settings = awsSettings('ecr', described, { region, accountId: request.env.AWS_STS_ACCOUNT || undefined });
    credential = await fetchAwsToken('ecr', described, settings, async (config) => {
      const data = await getAuthorizationData(config, {}, request.signal);
      proxyEndpoint = data?.proxyEndpoint;
      return data;
    });
  } catch (err) {
    if (!(err instanceof ProviderError)) throw err;
    throw new ProviderError(`${what}: ${err.message}`, { cause: err, ...(err.hint ? { hint: err.hint } : {}) });
  }
  const registryHost = registryHostOf(proxyEndpoint ?? '');
  if (!parseEcrHost(registryHost)) {
    throw new ProviderError(`${what}: GetAuthorizationToken named no ECR registry (proxyEndpoint: ${proxyEndpoint ?? 'none'})`, {
      hint: 'name the registry with BERTH_REGISTRIES, or set AWS_ACCOUNT_ID',
    });
  }
  return { registryHost, credential };
}

/** What the registration table (./index.ts) loads. */
export default { provider: ecrProvider, identity: ecrCacheIdentity } satisfies ProviderModule;
