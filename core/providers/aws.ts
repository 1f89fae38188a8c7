/**
 * @module
 * What the ECR and ECR Public providers share: a request's AWS settings (profile, role, region)
 * from the registry's options and the environment, its cache identity, the AWS credential chain
 * with optional role assumption, the proxy-aware HTTP handler, the `user:password` token, and one
 * clear error line per failure. SDK modules are imported inside the functions that use them, so
 * the helper loads none of them until it has to ask AWS for a token.
 */
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { ProviderError } from '../errors.js';
import { importPackage } from '../io/import-package.js';
import type { Env } from '../paths.js';
import { awsError } from './aws-errors.js';
import type { Credential, ProviderRequest } from './provider.js';

export type AwsService = 'ecr' | 'ecr-public';

export interface AwsSettings {
  /** The region the API is called in (and the signature scoped to). */
  region: string;
  profile?: string;
  roleArn?: string;
  externalId?: string;
  roleSessionName?: string;
}

/** What the registry's host says about where its API lives. */
export interface AwsTarget {
  region: string;
  /** The registry's account; a bare `AWS_STS_ROLE` name is taken to be in it. */
  accountId?: string;
}

/** The slice of an SDK client's configuration berth decides. */
export interface AwsClientConfig {
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  endpoint?: string;
  requestHandler?: NodeHttpHandler;
}

export interface AuthorizationData {
  authorizationToken?: string;
  expiresAt?: Date;
}

const OPTIONS: Record<AwsService, readonly string[]> = {
  ecr: ['profile', 'roleArn', 'externalId', 'roleSessionName', 'region'],
  'ecr-public': ['profile', 'roleArn', 'externalId', 'roleSessionName'],
};

/** Tokens are valid 12 hours; used only if an answer ever lacks `expiresAt`. */
const TOKEN_LIFETIME_MS = 12 * 3600_000;

/** The AWS partition of a region, for building role ARNs. */
export function awsPartition(region: string): string {
  const prefixes: [string, string][] = [
    ['cn-', 'aws-cn'],
    ['us-gov-', 'aws-us-gov'],
    ['us-isob-', 'aws-iso-b'],
    ['us-isof-', 'aws-iso-f'],
    ['us-iso-', 'aws-iso'],
    ['eu-isoe-', 'aws-iso-e'],
    ['eusc-', 'aws-eusc'],
  ];
  return prefixes.find(([prefix]) => region.startsWith(prefix))?.[1] ?? 'aws';
}

/**
 * The role to assume from the variables the Codeship generators read: `AWS_STS_ROLE` is an ARN, or
 * a role name in `AWS_STS_ACCOUNT` (else in the registry's own account).
 */
function codeshipRoleArn(service: AwsService, request: ProviderRequest, target: AwsTarget): string | undefined {
  const role = request.env.AWS_STS_ROLE;
  if (!role) return undefined;
  if (role.startsWith('arn:')) return role;
  const account = request.env.AWS_STS_ACCOUNT || target.accountId;
  if (!account) {
    throw new ProviderError(`${service}: ${request.registryHost}: AWS_STS_ROLE names role "${role}" but no account`, {
      hint: 'set AWS_STS_ACCOUNT to the 12-digit account of the role, or AWS_STS_ROLE to the full role ARN',
    });
  }
  return `arn:${awsPartition(target.region)}:iam::${account}:role/${role}`;
}

/** Reads and checks the registry's options; options win over the environment. */
export function awsSettings(service: AwsService, request: ProviderRequest, target: AwsTarget): AwsSettings {
  const options: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.options)) {
    if (!OPTIONS[service].includes(name) || typeof value !== 'string' || value === '') {
      throw new ProviderError(`${service}: ${request.registryHost}: bad option "${name}"`, {
        hint: `${service} takes the string options ${OPTIONS[service].join(', ')}`,
      });
    }
    options[name] = value;
  }
  return {
    region: options.region ?? target.region,
    profile: options.profile ?? (request.env.AWS_PROFILE || undefined),
    roleArn: options.roleArn ?? codeshipRoleArn(service, request, target),
    externalId: options.externalId,
    roleSessionName: options.roleSessionName,
  };
}

/**
 * The cache identity of a request: the registry and who asks for it (profile, role, external id,
 * region) — never the access key id, so a rotated key still finds its cached token and no key id
 * is written to disk.
 */
export function awsCacheIdentity(service: AwsService, registryHost: string, settings: AwsSettings): string {
  const parts = [`${service}:${registryHost}`, `region=${settings.region}`];
  if (settings.profile) parts.push(`profile=${settings.profile}`);
  if (settings.roleArn) parts.push(`role=${settings.roleArn}`);
  if (settings.externalId) parts.push(`externalId=${settings.externalId}`);
  return parts.join(';');
}

/** The endpoint the environment sets for a service (`AWS_ENDPOINT_URL_ECR`, then `AWS_ENDPOINT_URL`). */
function configuredEndpoint(service: AwsService, env: Env): string | undefined {
  if (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS === 'true') return undefined;
  const variable = service === 'ecr' ? 'AWS_ENDPOINT_URL_ECR' : 'AWS_ENDPOINT_URL_ECR_PUBLIC';
  return env[variable] || env.AWS_ENDPOINT_URL || undefined;
}

/** Bounds on one HTTP attempt, so a silent network fails a `get` instead of hanging it. */
const CONNECT_TIMEOUT_MS = 5_000;
const RESPONSE_TIMEOUT_MS = 20_000;

/** The SDK's HTTP handler with berth's timeouts and, when the environment sets one, a proxy. */
async function requestHandlerFor(env: Env): Promise<NodeHttpHandler> {
  const { proxyAgentsFromEnv } = await import('../io/proxy.js');
  const { NodeHttpHandler } = await importPackage(import('@smithy/node-http-handler'));
  return new NodeHttpHandler({
    ...proxyAgentsFromEnv(env),
    connectionTimeout: CONNECT_TIMEOUT_MS,
    requestTimeout: RESPONSE_TIMEOUT_MS,
  });
}

/**
 * Gets a token: resolves credentials through the SDK's chain (and a role, if one is named), then
 * runs `getToken` with the client configuration. Every failure is one ProviderError line.
 */
export async function fetchAwsToken(
  service: AwsService,
  request: ProviderRequest,
  settings: AwsSettings,
  getToken: (config: AwsClientConfig, target: { awsEndpoint: boolean }) => Promise<AuthorizationData | undefined>,
): Promise<Credential> {
  // The SDK warns on stderr about Node versions it will drop; the helper's stderr reaches the user
  // on every pull. Its documented switch silences only that warning.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const requestHandler = await requestHandlerFor(request.env);
  const credentials = await resolveCredentials(service, request, settings, requestHandler);
  const endpoint = configuredEndpoint(service, request.env);
  let data: AuthorizationData | undefined;
  try {
    data = await getToken(
      {
        region: settings.region,
        credentials,
        ...(endpoint && { endpoint }),
        requestHandler,
      },
      // An explicit endpoint is used as given; FIPS and dual-stack variants apply only to AWS's own.
      { awsEndpoint: endpoint === undefined },
    );
  } catch (err) {
    throw awsError(service, request.registryHost, 'token', err, settings);
  }
  return credentialFromToken(service, request, data);
}

async function resolveCredentials(
  service: AwsService,
  request: ProviderRequest,
  settings: AwsSettings,
  requestHandler: NodeHttpHandler,
): Promise<AwsClientConfig['credentials']> {
  const { fromNodeProviderChain, fromTemporaryCredentials } = await importPackage(
    import('@aws-sdk/credential-providers'),
  );
  const clientConfig = { region: settings.region, requestHandler };
  let base;
  try {
    base = await fromNodeProviderChain({
      profile: settings.profile,
      filepath: request.env.AWS_SHARED_CREDENTIALS_FILE || undefined,
      configFilepath: request.env.AWS_CONFIG_FILE || undefined,
      clientConfig,
    })();
  } catch (err) {
    throw awsError(service, request.registryHost, 'credentials', err, settings);
  }
  if (!settings.roleArn) return base;
  const params = {
    RoleArn: settings.roleArn,
    RoleSessionName: settings.roleSessionName ?? 'berth',
    ...(settings.externalId && { ExternalId: settings.externalId }),
  };
  try {
    return await fromTemporaryCredentials({ masterCredentials: base, params, clientConfig })();
  } catch (err) {
    throw awsError(service, request.registryHost, 'role', err, settings);
  }
}

function credentialFromToken(
  service: AwsService,
  request: ProviderRequest,
  data: AuthorizationData | undefined,
): Credential {
  const token = data?.authorizationToken ?? '';
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(token) ? Buffer.from(token, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new ProviderError(
      `${service}: ${request.registryHost}: GetAuthorizationToken answered without a base64 "user:password" token`,
    );
  }
  const expiresAt = data?.expiresAt ?? new Date(request.now() + TOKEN_LIFETIME_MS);
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1), expiresAt };
}
