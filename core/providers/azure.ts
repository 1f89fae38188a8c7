/**
 * @module
 * The Azure provider: an ACR refresh token for `*.azurecr.io` (and the sovereign clouds). A
 * Microsoft Entra token for the registry audience, from @azure/identity (loaded only when an Azure
 * registry is asked for), is exchanged at `https://<registry>/oauth2/exchange`; docker logs in with
 * the all-zero GUID as username and the refresh token as password.
 */
import { proxiedFetch } from '../io/fetch.js';
import { ProviderError, oneLine } from '../errors.js';
import type { Env } from '../paths.js';
import { loadPackage } from '../io/packages.js';
import {
  NoIdentityError,
  type Credential,
  type ProviderModule,
  type ProviderRequest,
  refuseForeignHost,
  type ServiceAccountIdentity,
} from './provider.js';

/** The username ACR expects with a refresh token. */
export const ACR_USERNAME = '00000000-0000-0000-0000-000000000000';
/** ACR refresh tokens live about three hours; used only when the token carries no `exp`. */
const DEFAULT_LIFETIME_MS = 3 * 60 * 60 * 1000;
const EXCHANGE_TIMEOUT_MS = 30_000;

export interface AzureCloud {
  /** Microsoft Entra authority for this cloud. */
  authorityHost: string;
  /** Entra scope whose tokens the cloud's registries accept. */
  scope: string;
}

/**
 * Registry domain → cloud. The `containerregistry.azure.*` audiences are the ones ACR accepts even
 * with ARM-audience tokens disabled; Azure Germany closed before it had one, so its ARM audience.
 */
const CLOUDS: readonly (readonly [suffix: string, cloud: AzureCloud])[] = [
  ['.azurecr.io', { authorityHost: 'https://login.microsoftonline.com', scope: 'https://containerregistry.azure.net/.default' }],
  ['.azurecr.cn', { authorityHost: 'https://login.chinacloudapi.cn', scope: 'https://containerregistry.azure.cn/.default' }],
  ['.azurecr.us', { authorityHost: 'https://login.microsoftonline.us', scope: 'https://containerregistry.azure.us/.default' }],
  ['.azurecr.de', { authorityHost: 'https://login.microsoftonline.de', scope: 'https://management.core.cloudapi.de/.default' }],
];

/** The cloud a registry host belongs to; the public cloud for any other host. */
export function azureCloud(registryHost: string): AzureCloud {
  const host = registryHost.toLowerCase().replace(/:443$/, '');
  return (CLOUDS.find(([suffix]) => host.endsWith(suffix)) ?? CLOUDS[0]!)[1];
}

/** Settings resolved from the registry's options and the environment. */
interface AzureSettings {
  registryHost: string;
  tenantId: string | undefined;
  clientId: string | undefined;
  authorityHost: string;
  scope: string;
  env: Env;
  /** A Kubernetes service account token to present as a federated client assertion. */
  federatedToken?: string;
}

/**
 * Options (all optional): `tenantId`, `clientId` (else AZURE_TENANT_ID, AZURE_CLIENT_ID), `scope`
 * and `authorityHost` (else from the registry's cloud; AZURE_AUTHORITY_HOST overrides the latter),
 * `allowAnyHost` (exchange the token at a host that is not an ACR login server: a proxy in front of one).
 */
export async function azureProvider(request: ProviderRequest): Promise<Credential> {
  // The Entra token is posted to https://<host>/oauth2/exchange: only to a registry of Azure's.
  refuseForeignHost('azure', request);
  const configured = resolveSettings(request);
  const settings = request.serviceAccount ? { ...configured, ...serviceAccountSettings(configured, request.serviceAccount) } : configured;
  const { token, tenantId } = await entraToken(settings, request.signal);
  const refreshToken = await exchange(settings, token, tenantId, request.signal);
  const exp = jwtExpiry(refreshToken);
  return {
    username: ACR_USERNAME,
    secret: refreshToken,
    expiresAt: new Date(exp ?? request.now() + DEFAULT_LIFETIME_MS),
  };
}

function resolveSettings({ registryHost, options, env }: ProviderRequest): AzureSettings {
  const text = (name: string): string | undefined => {
    const value = options[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value === '') throw new ProviderError(`option "${name}" must be a non-empty string`);
    return value;
  };
  const cloud = azureCloud(registryHost);
  return {
    registryHost,
    tenantId: text('tenantId') ?? (env.AZURE_TENANT_ID || undefined),
    clientId: text('clientId') ?? (env.AZURE_CLIENT_ID || undefined),
    authorityHost: text('authorityHost') ?? (env.AZURE_AUTHORITY_HOST || cloud.authorityHost),
    scope: text('scope') ?? cloud.scope,
    env,
  };
}

/** Azure Workload Identity's service-account annotations. */
export const AZURE_CLIENT_ID_ANNOTATION = 'azure.workload.identity/client-id';
export const AZURE_TENANT_ID_ANNOTATION = 'azure.workload.identity/tenant-id';

/** A pod's service account token as a federated credential: the annotations name the app and tenant. */
function serviceAccountSettings(settings: AzureSettings, serviceAccount: ServiceAccountIdentity): Partial<AzureSettings> {
  const clientId = serviceAccount.annotations[AZURE_CLIENT_ID_ANNOTATION] || settings.clientId;
  const tenantId = serviceAccount.annotations[AZURE_TENANT_ID_ANNOTATION] || settings.tenantId;
  if (!clientId || !tenantId) {
    const missing = !clientId ? AZURE_CLIENT_ID_ANNOTATION : AZURE_TENANT_ID_ANNOTATION;
    throw new ProviderError(`azure token for ${settings.registryHost}: a service account token came without ${missing}`, {
      hint: `annotate the service account with ${missing}, or set the registry's ${!clientId ? 'clientId' : 'tenantId'} option`,
    });
  }
  return { clientId, tenantId, federatedToken: serviceAccount.token };
}

type IdentityModule = typeof import('@azure/identity');
type TokenCredential = import('@azure/identity').TokenCredential;

/** The identity to sign in as: a description for messages (never a secret) and how to build it. */
interface Identity {
  description: string;
  create(identity: IdentityModule): TokenCredential;
}

/**
 * The identity named by the environment this request carries (service principal secret or
 * certificate, workload identity token file), else DefaultAzureCredential: managed identity,
 * az login, azd. A half-configured service principal is an error, not a silent fallback.
 */
function chooseIdentity(settings: AzureSettings): Identity {
  const { env, tenantId, clientId, authorityHost, federatedToken } = settings;
  if (federatedToken !== undefined && tenantId && clientId) {
    return {
      description: `service account federated as ${clientId}`,
      create: (identity) => new identity.ClientAssertionCredential(tenantId, clientId, async () => federatedToken, { authorityHost }),
    };
  }
  const kinds = [
    ['AZURE_CLIENT_SECRET', `client secret of ${clientId}`],
    ['AZURE_CLIENT_CERTIFICATE_PATH', `certificate ${env.AZURE_CLIENT_CERTIFICATE_PATH}`],
    ['AZURE_FEDERATED_TOKEN_FILE', `workload identity ${clientId}`],
  ] as const;
  const configured = kinds.find(([variable]) => env[variable]);
  if (!configured) {
    const ids = {
      ...(tenantId ? { tenantId } : {}),
      ...(clientId ? { managedIdentityClientId: clientId, workloadIdentityClientId: clientId } : {}),
    };
    return {
      description: 'default Azure credential',
      create: (identity) => new identity.DefaultAzureCredential({ authorityHost, ...ids }),
    };
  }
  const [variable, description] = configured;
  if (!tenantId || !clientId) {
    const missing = !tenantId ? 'AZURE_TENANT_ID (or the "tenantId" option)' : 'AZURE_CLIENT_ID (or the "clientId" option)';
    throw new ProviderError(`${variable} is set but ${missing} is not`, {
      hint: `set ${missing.split(' ')[0]} to the app registration's value`,
    });
  }
  const create = (identity: IdentityModule): TokenCredential => {
    if (variable === 'AZURE_CLIENT_SECRET')
      return new identity.ClientSecretCredential(tenantId, clientId, env.AZURE_CLIENT_SECRET!, { authorityHost });
    if (variable === 'AZURE_CLIENT_CERTIFICATE_PATH') {
      const certificate = {
        certificatePath: env.AZURE_CLIENT_CERTIFICATE_PATH!,
        certificatePassword: env.AZURE_CLIENT_CERTIFICATE_PASSWORD,
      };
      return new identity.ClientCertificateCredential(tenantId, clientId, certificate, { authorityHost });
    }
    return new identity.WorkloadIdentityCredential({ authorityHost, tenantId, clientId, tokenFilePath: env.AZURE_FEDERATED_TOKEN_FILE! });
  };
  return { description, create };
}

async function entraToken(
  settings: AzureSettings,
  signal: AbortSignal | undefined,
): Promise<{ token: string; tenantId: string | undefined }> {
  const chosen = chooseIdentity(settings);
  const what = chosen.description;
  let token: string;
  try {
    const credential = chosen.create(await loadPackage('@azure/identity'));
    const accessToken = await credential.getToken(settings.scope, signal ? { abortSignal: signal } : {});
    if (!accessToken) throw new Error('the credential returned no token');
    token = accessToken.token;
  } catch (err) {
    throw entraError(err, what, settings);
  }
  // The exchange wants the tenant that issued the token; without configuration, the token says it.
  const tid = jwtClaims(token)?.tid;
  return { token, tenantId: settings.tenantId ?? (typeof tid === 'string' ? tid : undefined) };
}

const ENTRA_HINTS: Record<string, string> = {
  AADSTS7000215: 'the client secret is wrong or expired; create a new one (az ad app credential reset) and set AZURE_CLIENT_SECRET',
  AADSTS7000222: 'the client secret has expired; create a new one (az ad app credential reset) and set AZURE_CLIENT_SECRET',
  AADSTS700027:
    'the certificate is not registered for this app, or the key does not match it; upload it (az ad app credential reset --cert)',
  AADSTS700016: 'no app with this client id in the tenant; check AZURE_CLIENT_ID and AZURE_TENANT_ID',
  AADSTS90002: 'the tenant does not exist; check AZURE_TENANT_ID',
  AADSTS500011: 'the scope names no resource in this tenant; check the registry cloud or the "scope" option',
};

/** One line: the AADSTS code and its first sentence when Entra answered, else the SDK's first line. */
function entraError(err: unknown, what: string, settings: AzureSettings): ProviderError {
  const message = oneLine(err);
  const aadsts = /(AADSTS\d+):\s*([^.]*\.?)/.exec(message);
  if (aadsts) {
    return new ProviderError(`${what}: ${aadsts[1]}: ${aadsts[2]}`, {
      hint: ENTRA_HINTS[aadsts[1]!] ?? `check the identity and tenant with: az login --service-principal`,
    });
  }
  const name = (err as Error)?.name;
  if (name === 'AggregateAuthenticationError' || name === 'CredentialUnavailableError') {
    return new NoIdentityError(`${what}: none found (no service principal variables, no managed identity, no az login)`, {
      hint: 'set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH), or run: az login',
    });
  }
  const firstLine = ((err as Error)?.message ?? String(err)).split('\n')[0]!.trim();
  return new ProviderError(`${what}: ${firstLine || message}`, {
    hint: `check network access to ${settings.authorityHost} (HTTPS_PROXY, NO_PROXY) and the identity's settings`,
  });
}

/** The ACR exchange, through HTTPS_PROXY unless NO_PROXY names the registry (see exchangeFetch). */
async function exchange(
  settings: AzureSettings,
  accessToken: string,
  tenantId: string | undefined,
  signal: AbortSignal | undefined,
): Promise<string> {
  const { registryHost } = settings;
  const what = 'ACR token exchange';
  const form = new URLSearchParams({
    grant_type: 'access_token',
    service: registryHost,
    ...(tenantId ? { tenant: tenantId } : {}),
    access_token: accessToken,
  });
  const timeout = AbortSignal.timeout(EXCHANGE_TIMEOUT_MS);
  const client = await proxiedFetch(settings.env);
  try {
    const response = await client.fetch(`https://${registryHost}/oauth2/exchange`, {
      method: 'POST',
      body: form,
      redirect: 'error',
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    const body = await response.text();
    if (!response.ok) throw exchangeError(`${what}: ${response.status} ${acrErrorMessage(body)}`, response.status);
    const refreshToken = parseJson(body)?.refresh_token;
    if (typeof refreshToken !== 'string' || refreshToken === '') throw new ProviderError(`${what}: the answer holds no refresh_token`);
    return refreshToken;
  } catch (err) {
    if (err instanceof ProviderError) throw err;
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    throw new ProviderError(`${what}: cannot connect: ${oneLine(cause?.code ?? cause?.message ?? err)}`, {
      hint: 'check that the registry name is right and reachable (HTTPS_PROXY, NO_PROXY)',
    });
  } finally {
    client.close();
  }
}

function exchangeError(message: string, status: number): ProviderError {
  const hint =
    status === 401 || status === 403
      ? "the identity needs a role on the registry (AcrPull or AcrPush), and the token must be for the registry's cloud"
      : status === 404
        ? 'this host does not answer as an Azure container registry; check the registry name'
        : undefined;
  return new ProviderError(message, hint ? { hint } : {});
}

/** ACR errors are `{"errors":[{"code","message"}]}`; anything else is summarised, not dumped. */
function acrErrorMessage(body: string): string {
  const errors = parseJson(body)?.errors;
  const first = Array.isArray(errors) ? (errors[0] as { code?: unknown; message?: unknown } | undefined) : undefined;
  if (first && (typeof first.code === 'string' || typeof first.message === 'string')) {
    return oneLine([first.code, first.message].filter((part) => typeof part === 'string').join(': '));
  }
  return body.trim() ? `(${body.length} bytes, not an ACR error)` : '(empty answer)';
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Claims of a JWT, without verifying it: we only read what the issuer told us. */
function jwtClaims(token: string): Record<string, unknown> | undefined {
  const payload = token.split('.')[1];
  return payload === undefined ? undefined : parseJson(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** The JWT's `exp` in milliseconds, when it has one. */
export function jwtExpiry(token: string): number | undefined {
  const exp = jwtClaims(token)?.exp;
  return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
}

/** What the registration table (./index.ts) loads. */
export default { provider: azureProvider, identityEnv: ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'] } satisfies ProviderModule;
