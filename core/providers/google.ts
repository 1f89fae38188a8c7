/**
 * @module
 * The Google provider: an OAuth access token for Container Registry and Artifact Registry hosts, from
 * google-auth-library (loaded only when a Google registry is asked for). Sources, first match wins:
 * the registry's `keyFile` option, `GOOGLE_AUTH_JSON` (key JSON in a variable, as the Codeship
 * generator took it), `GOOGLE_APPLICATION_CREDENTIALS`, then Application Default Credentials
 * (gcloud's ADC file, a user's login or one impersonating a service account, workload identity
 * federation configs, the GCE/GKE metadata server).
 */
import { loadPackage } from '../io/packages.js';
import { ProviderError, oneLine } from '../errors.js';
import {
  NoIdentityError,
  type Credential,
  type ProviderModule,
  type ProviderRequest,
  refuseForeignHost,
  type ServiceAccountIdentity,
} from './provider.js';

/** The username Google registries expect with an OAuth access token. */
export const GOOGLE_USERNAME = 'oauth2accesstoken';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
/** Google access tokens live an hour; used only if the library reports no expiry. */
const DEFAULT_LIFETIME_MS = 60 * 60 * 1000;

/** Where the credential came from, for error messages; never the secret itself. */
interface CredentialSource {
  description: string;
  keyFilename?: string;
  credentials?: Record<string, unknown>;
}

/**
 * Options: `keyFile` (path to a service-account or external-account JSON file), `allowAnyHost`
 * (send the token to a host that is not a Google registry: a proxy in front of one).
 */
export async function googleProvider(request: ProviderRequest): Promise<Credential> {
  refuseForeignHost('google', request);
  if (request.serviceAccount) return federatedToken(request, request.serviceAccount);
  const source = credentialSource(request);
  const { GoogleAuth, UserRefreshClient } = await loadPackage('google-auth-library');
  const auth = new GoogleAuth({
    scopes: [CLOUD_PLATFORM_SCOPE],
    ...(source.keyFilename !== undefined ? { keyFilename: source.keyFilename } : {}),
    ...(source.credentials !== undefined ? { credentials: source.credentials } : {}),
  });
  // A user's gcloud login, used as it is or to impersonate a service account (the source of an
  // Impersonated client is a field the library's types keep private).
  const userLogin = (client: AccessTokenClient) =>
    client instanceof UserRefreshClient || (client as { sourceClient?: unknown }).sourceClient instanceof UserRefreshClient;
  return accessToken(request, source, () => auth.getClient(), userLogin);
}

/** The annotation (or registry option `workloadIdentityProvider`) naming the pool provider to federate with. */
export const GOOGLE_WIF_PROVIDER_ANNOTATION = 'berth.dev/google-workload-identity-provider';
/** GKE's annotation for the Google service account a Kubernetes service account acts as. */
export const GKE_SERVICE_ACCOUNT_ANNOTATION = 'iam.gke.io/gcp-service-account';

/**
 * Workload identity federation with the pod's service account token as the subject token: STS
 * exchanges it for an access token, impersonating a Google service account when one is named.
 */
async function federatedToken(request: ProviderRequest, serviceAccount: ServiceAccountIdentity): Promise<Credential> {
  const { annotations } = serviceAccount;
  const option = (name: string) => (typeof request.options[name] === 'string' ? (request.options[name] as string) : undefined);
  const audience = annotations[GOOGLE_WIF_PROVIDER_ANNOTATION] || option('workloadIdentityProvider');
  if (!audience) {
    throw new ProviderError(`google token for ${request.registryHost}: a service account token came with no workload identity provider`, {
      hint: `annotate the service account with ${GOOGLE_WIF_PROVIDER_ANNOTATION}=//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/X, or set the registry's workloadIdentityProvider option`,
    });
  }
  const impersonate = annotations[GKE_SERVICE_ACCOUNT_ANNOTATION] || option('serviceAccount');
  const { IdentityPoolClient } = await loadPackage('google-auth-library');
  const source = { description: `workload identity federation ${audience}` };
  return accessToken(request, source, async () => {
    return new IdentityPoolClient({
      type: 'external_account',
      audience,
      subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
      token_url: 'https://sts.googleapis.com/v1/token',
      subject_token_supplier: { getSubjectToken: async () => serviceAccount.token },
      scopes: [CLOUD_PLATFORM_SCOPE],
      ...(impersonate
        ? {
            service_account_impersonation_url: `https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/${impersonate}:generateAccessToken`,
          }
        : {}),
    });
  });
}

interface AccessTokenClient {
  getAccessToken(): Promise<{ token?: string | null }>;
  credentials: { expiry_date?: number | null };
}

async function accessToken(
  request: ProviderRequest,
  source: CredentialSource,
  getClient: () => Promise<AccessTokenClient>,
  userLogin: (client: AccessTokenClient) => boolean = () => false,
): Promise<Credential> {
  let token: string | null | undefined;
  let expiryDate: number | null | undefined;
  let client: AccessTokenClient | undefined;
  try {
    client = await getClient();
    token = (await client.getAccessToken()).token;
    expiryDate = client.credentials.expiry_date;
  } catch (err) {
    throw googleError(err, source, client !== undefined && userLogin(client));
  }
  if (!token) throw new ProviderError(`${source.description}: the token endpoint returned no access token`);
  return {
    username: GOOGLE_USERNAME,
    secret: token,
    expiresAt: new Date(expiryDate ?? request.now() + DEFAULT_LIFETIME_MS),
  };
}

function credentialSource({ options, env }: ProviderRequest): CredentialSource {
  const keyFile = options.keyFile;
  if (keyFile !== undefined) {
    if (typeof keyFile !== 'string' || keyFile === '') {
      throw new ProviderError('option "keyFile" must be a path');
    }
    return { description: `key file ${keyFile}`, keyFilename: keyFile };
  }
  if (env.GOOGLE_AUTH_JSON) return { description: 'GOOGLE_AUTH_JSON', credentials: parseAuthJson(env.GOOGLE_AUTH_JSON) };
  if (env.GOOGLE_APPLICATION_CREDENTIALS) {
    return {
      description: `GOOGLE_APPLICATION_CREDENTIALS=${env.GOOGLE_APPLICATION_CREDENTIALS}`,
      keyFilename: env.GOOGLE_APPLICATION_CREDENTIALS,
    };
  }
  return { description: 'application default credentials' };
}

/** Key JSON as text; base64 of it is accepted too, as CI secret stores often hold it that way. */
function parseAuthJson(text: string): Record<string, unknown> {
  const trimmed = text.trim();
  const json = trimmed.startsWith('{') ? trimmed : Buffer.from(trimmed, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    parsed = undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || typeof (parsed as { type?: unknown }).type !== 'string') {
    // The variable holds a secret: name it, never echo it.
    throw new ProviderError('GOOGLE_AUTH_JSON is not a Google credential JSON (nor base64 of one)', {
      hint: 'set GOOGLE_AUTH_JSON to the contents of a service account key file (gcloud iam service-accounts keys create)',
    });
  }
  return parsed as Record<string, unknown>;
}

/** OAuth error code and description from a gaxios or token-endpoint error, when there is one. */
function oauthError(err: unknown): { code: string; description?: string } | undefined {
  const data = (err as { response?: { data?: unknown } })?.response?.data;
  if (typeof data === 'object' && data !== null && typeof (data as { error?: unknown }).error === 'string') {
    const { error, error_description: description } = data as { error: string; error_description?: unknown };
    return { code: error, ...(typeof description === 'string' ? { description } : {}) };
  }
  const match = /^(invalid_grant|invalid_client|invalid_scope|unauthorized_client|invalid_request|access_denied)\b:?\s*(.*)$/s.exec(
    err instanceof Error ? err.message : '',
  );
  return match ? { code: match[1]!, ...(match[2] ? { description: match[2] } : {}) } : undefined;
}

const HINTS: Record<string, string> = {
  invalid_grant:
    "the service account key was deleted or disabled, or this machine's clock is wrong: create a new key (gcloud iam service-accounts keys create); with workload identity federation, check the pool provider's issuer and audience",
  invalid_client: 'the credential JSON is not a valid client; download a fresh key for the service account',
  unauthorized_client:
    'this identity may not request cloud-platform access tokens; check the service account and its workload identity binding',
  invalid_scope: 'the identity cannot get cloud-platform tokens; check its workload identity pool or impersonation settings',
};

/** A Google API's error (`{"error": {"code", "message", "status"}}`), as IAM Credentials answers. */
function apiError(err: unknown): { status: string; message: string } | undefined {
  const error = (err as { response?: { data?: { error?: unknown } } })?.response?.data?.error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, message } = error as { status?: unknown; message?: unknown };
  return typeof status === 'string' && typeof message === 'string' ? { status, message } : undefined;
}

const RELOGIN_HINT = 'the gcloud login has expired or was revoked: run gcloud auth application-default login';

/**
 * One line naming the source tried and what Google said, with a hint for the likely mistake.
 * `userLogin`: the credential is a user's gcloud login, whose refresh token, not a key, Google refused.
 */
function googleError(err: unknown, source: CredentialSource, userLogin = false): ProviderError {
  const what = source.description;
  const oauth = oauthError(err);
  if (oauth) {
    const detail = oauth.description ? `${oauth.code}: ${oneLine(oauth.description)}` : oauth.code;
    const hint = userLogin && (oauth.code === 'invalid_grant' || oauth.code === 'invalid_client') ? RELOGIN_HINT : HINTS[oauth.code];
    return new ProviderError(`${what}: ${detail}`, {
      hint: hint ?? 'check the credential with: gcloud auth application-default print-access-token',
    });
  }
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'EACCES') {
    return new ProviderError(`${what}: cannot read the credential file: ${code}`, {
      hint: 'check the path and that this user may read it',
    });
  }
  const api = apiError(err);
  if (api) {
    // impersonating a service account (an ADC file, or GKE's gcp-service-account annotation)
    const impersonating = api.status === 'PERMISSION_DENIED' && /iam\.serviceAccounts\.getAccessToken/.test(api.message);
    return new ProviderError(`${what}: ${api.status}: ${oneLine(api.message)}`, {
      hint: impersonating
        ? 'the identity needs the Service Account Token Creator role (roles/iam.serviceAccountTokenCreator) on the service account it impersonates'
        : 'check the credential with: gcloud auth application-default print-access-token',
    });
  }
  const message = oneLine(err);
  if (/could not load the default credentials/i.test(message)) {
    return new NoIdentityError(`${what}: no Google credentials found (no key file, no gcloud ADC file, no metadata server)`, {
      hint: 'set GOOGLE_APPLICATION_CREDENTIALS to a service account key file, or run: gcloud auth application-default login',
    });
  }
  return new ProviderError(`${what}: ${message}`, { hint: 'check network access to Google (HTTPS_PROXY, NO_PROXY) and the credential' });
}

/** What the registration table (./index.ts) loads. */
export default { provider: googleProvider, identityEnv: ['GOOGLE_AUTH_JSON', 'GOOGLE_APPLICATION_CREDENTIALS'] } satisfies ProviderModule;
