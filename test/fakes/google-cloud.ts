/**
 * @module
 * Fake Google endpoints for the HTTPS proxy: the OAuth token endpoint (`oauth2.googleapis.com`),
 * which checks a service account's RS256 JWT assertion as Google does, and the GCE metadata server,
 * which insists on `Metadata-Flavor: Google`. Issued tokens are configurable; calls are counted.
 */
import { randomBytes } from 'node:crypto';
import type { FakeRequest, FakeResponse, HostHandler, HttpsProxy } from './https-proxy.js';
import { decodeJwt, verifyJwt } from './jwt.js';
import { generateRsaKeyPair } from './test-ca.js';

export const GOOGLE_TOKEN_HOST = 'oauth2.googleapis.com';
export const GOOGLE_TOKEN_URL = `https://${GOOGLE_TOKEN_HOST}/token`;
export const STS_HOST = 'sts.googleapis.com';
export const METADATA_HOSTS = ['metadata.google.internal', '169.254.169.254'];
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';

export interface GoogleServiceAccount {
  email: string;
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  /** The key file as `gcloud iam service-accounts keys create` writes it. */
  keyJson: string;
}

export function createServiceAccount(email = 'berth-test@berth-project.iam.gserviceaccount.com'): GoogleServiceAccount {
  const { privateKeyPem, publicKeyPem } = generateRsaKeyPair();
  const keyId = randomBytes(20).toString('hex');
  const keyJson = JSON.stringify({
    type: 'service_account',
    project_id: 'berth-project',
    private_key_id: keyId,
    private_key: privateKeyPem,
    client_email: email,
    client_id: '1234567890',
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: GOOGLE_TOKEN_URL,
  });
  return { email, keyId, privateKeyPem, publicKeyPem, keyJson };
}

export interface WorkloadPool {
  /** `//iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/providers/V` */
  audience: string;
  issuer: string;
  publicKeyPem: string;
}

export interface FakeGoogleOptions {
  /** Accounts whose keys the token endpoint accepts (Google's registered public keys). */
  serviceAccounts?: GoogleServiceAccount[];
  /** Workload identity pool providers STS trusts: OIDC tokens from `issuer`, signed by its key. */
  workloadPools?: WorkloadPool[];
  /** The access token to issue; a fresh random one per call when not given. */
  accessToken?: string | (() => string);
  /** Seconds; Google issues 3599. */
  expiresIn?: number;
}

export interface FakeGoogle {
  calls: { token: number; sts: number; metadataToken: number; metadata: number };
  /** Tokens issued, in order. */
  issued: string[];
  /** Scopes requested in the last accepted assertion or metadata call. */
  lastScope?: string;
  install(proxy: HttpsProxy): void;
}

const oauthError = (error: string, description: string, status = 400): FakeResponse => ({
  status,
  json: { error, error_description: description },
});

export function fakeGoogle(options: FakeGoogleOptions = {}): FakeGoogle {
  const accounts = options.serviceAccounts ?? [];
  const expiresIn = options.expiresIn ?? 3599;
  const fake: FakeGoogle = { calls: { token: 0, sts: 0, metadataToken: 0, metadata: 0 }, issued: [], install };
  const issue = (scope: string): FakeResponse => {
    const token = typeof options.accessToken === 'function' ? options.accessToken() : (options.accessToken ?? `ya29.${randomBytes(24).toString('base64url')}`);
    fake.issued.push(token);
    fake.lastScope = scope;
    return { json: { access_token: token, expires_in: expiresIn, token_type: 'Bearer' } };
  };

  const token: HostHandler = (request) => {
    fake.calls.token++;
    if (request.method !== 'POST' || request.url.pathname !== '/token') return { status: 404, text: 'Not Found' };
    if (request.form.get('grant_type') !== JWT_BEARER) return oauthError('unsupported_grant_type', 'Invalid grant_type: ' + request.form.get('grant_type'));
    const assertion = request.form.get('assertion') ?? '';
    const claims = decodeJwt(assertion)?.claims;
    const account = accounts.find((candidate) => candidate.email === claims?.iss);
    if (!claims || !account) return oauthError('invalid_grant', 'Invalid grant: account not found');
    if (!verifyJwt(assertion, account.publicKeyPem)) return oauthError('invalid_grant', 'Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (claims.aud !== GOOGLE_TOKEN_URL) return oauthError('invalid_grant', 'Invalid JWT: Failed audience check.');
    if (!(exp > now && iat <= now + 300 && exp - iat <= 3600)) {
      return oauthError('invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.');
    }
    if (typeof claims.scope !== 'string' || claims.scope === '') return oauthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    return issue(claims.scope);
  };

  // STS token exchange (workload identity federation): the subject token must be signed by the
  // pool provider's issuer and name the provider (with an https: prefix) as its audience.
  const sts: HostHandler = (request) => {
    fake.calls.sts++;
    if (request.method !== 'POST' || request.url.pathname !== '/v1/token') return { status: 404, text: 'Not Found' };
    const form = request.form;
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange') return oauthError('invalid_request', 'Invalid value for "grant_type"');
    const pool = (options.workloadPools ?? []).find((candidate) => candidate.audience === form.get('audience'));
    if (!pool) return oauthError('invalid_target', 'The target service indicated by the "audience" parameters is invalid.');
    const claims = verifyJwt(form.get('subject_token') ?? '', pool.publicKeyPem)?.claims;
    if (!claims || claims.iss !== pool.issuer) return oauthError('invalid_grant', 'The ID Token signature or issuer does not match the provider configuration.');
    if (![claims.aud].flat().includes(`https:${pool.audience}`)) return oauthError('invalid_grant', 'The audience in ID Token does not match the expected audience.');
    if (!(Number(claims.exp) > Math.floor(Date.now() / 1000))) return oauthError('invalid_grant', 'ID Token has expired.');
    const reply = issue(form.get('scope') ?? '');
    return { json: { ...(reply.json as object), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } };
  };

  const metadata: HostHandler = (request) => {
    fake.calls.metadata++;
    const flavor = { 'Metadata-Flavor': 'Google' };
    // The real server refuses requests without the header, and requests that went through a proxy
    // that adds X-Forwarded-For.
    if (request.headers['metadata-flavor'] !== 'Google' || request.headers['x-forwarded-for']) {
      return { status: 403, headers: flavor, text: 'Missing required header "Metadata-Flavor": "Google"' };
    }
    const path = request.url.pathname;
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      fake.calls.metadataToken++;
      const reply = issue(request.url.searchParams.get('scopes') ?? '');
      return { ...reply, headers: flavor };
    }
    if (path === '/computeMetadata/v1/instance/service-accounts/default/email') return { headers: flavor, text: 'default@berth-project.iam.gserviceaccount.com' };
    if (path === '/computeMetadata/v1/project/project-id') return { headers: flavor, text: 'berth-project' };
    if (path === '/' || path.startsWith('/computeMetadata/v1/instance')) return { headers: flavor, text: '' };
    return { status: 404, headers: flavor, text: 'Not Found' };
  };

  function install(proxy: HttpsProxy): void {
    proxy.route(GOOGLE_TOKEN_HOST, token);
    proxy.route(STS_HOST, sts);
    for (const host of METADATA_HOSTS) proxy.route(host, metadata);
  }
  return fake;
}

