/**
 * @module
 * What the ECR and ECR Public providers share at request time (settings and cache identity are in
 * aws-settings.ts): the AWS credential chain with optional role assumption, the proxy-aware HTTP
 * handler, the `user:password` token, and one clear error line per failure. SDK modules are imported inside the functions that use them, so
 * the helper loads none of them until it has to ask AWS for a token.
 */
import type { NodeHttpHandler } from '@smithy/node-http-handler';
import { ProviderError } from '../errors.js';
import { loadPackage } from '../io/packages.js';
import type { Env } from '../paths.js';
import { awsError } from './aws-errors.js';
import type { AwsService, AwsSettings } from './aws-settings.js';
import type { Credential, ProviderRequest } from './provider.js';

/** Tokens are valid 12 hours; used only if an answer ever lacks `expiresAt`. */
const TOKEN_LIFETIME_MS = 12 * 3600_000;

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
  const { NodeHttpHandler } = await loadPackage('@smithy/node-http-handler');
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
  // The SDK's warning about Node versions it will drop is silenced by each program's entry
  // (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED): the SDK reads only process.env.
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
    throw awsError(service, 'token', err, settings);
  }
  return credentialFromToken(request, data);
}

async function resolveCredentials(
  service: AwsService,
  request: ProviderRequest,
  settings: AwsSettings,
  requestHandler: NodeHttpHandler,
): Promise<AwsClientConfig['credentials']> {
  const { fromNodeProviderChain, fromTemporaryCredentials, fromWebToken } = await loadPackage('@aws-sdk/credential-providers');
  const clientConfig = { region: settings.region, requestHandler };
  if (request.serviceAccount) {
    const roleArn = serviceAccountRole(request, settings);
    try {
      const params = {
        roleArn,
        webIdentityToken: request.serviceAccount.token,
        roleSessionName: settings.roleSessionName ?? 'berth-kubelet',
      };
      return await fromWebToken({ ...params, clientConfig })();
    } catch (err) {
      throw awsError(service, 'role', err, { ...settings, roleArn });
    }
  }
  let base;
  try {
    base = await fromNodeProviderChain({
      profile: settings.profile,
      filepath: request.env.AWS_SHARED_CREDENTIALS_FILE || undefined,
      configFilepath: request.env.AWS_CONFIG_FILE || undefined,
      clientConfig,
    })();
  } catch (err) {
    throw awsError(service, 'credentials', err, settings);
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
    throw awsError(service, 'role', err, settings);
  }
}

/** The service-account annotation EKS uses for IAM roles for service accounts. */
export const EKS_ROLE_ANNOTATION = 'eks.amazonaws.com/role-arn';

/** The role a pod's service account token is exchanged for: its annotation, else the registry's `roleArn`. */
function serviceAccountRole(request: ProviderRequest, settings: AwsSettings): string {
  const roleArn = request.serviceAccount?.annotations[EKS_ROLE_ANNOTATION] || settings.roleArn;
  if (!roleArn) {
    throw new ProviderError('a service account token came with no role to assume', {
      hint: `annotate the service account with ${EKS_ROLE_ANNOTATION}, or set the registry's roleArn option`,
    });
  }
  return roleArn;
}

function credentialFromToken(request: ProviderRequest, data: AuthorizationData | undefined): Credential {
  const token = data?.authorizationToken ?? '';
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(token) ? Buffer.from(token, 'base64').toString('utf8') : '';
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new ProviderError('GetAuthorizationToken answered without a base64 "user:password" token');
  }
  const expiresAt = data?.expiresAt ?? new Date(request.now() + TOKEN_LIFETIME_MS);
  return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1), expiresAt };
}
