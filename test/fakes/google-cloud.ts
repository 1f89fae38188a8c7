/**
 * @module
 * Fake Google endpoints for the HTTPS proxy: the OAuth token endpoint (`oauth2.googleapis.com`),
 * which checks a service account's RS256 JWT assertion as Google does and redeems a gcloud user's
 * refresh token for its OAuth client, STS (`sts.googleapis.com`), which checks a workload's OIDC
 * token for workload identity federation, IAM Credentials (`iamcredentials.googleapis.com`), which
 * mints a service account's token for a caller whose own token it issued and who holds the Token
 * Creator role on that account, and the GCE metadata server, which insists on
 * `Metadata-Flavor: Google`. Issued tokens are configurable; calls counted.
 */
import { randomBytes } from 'node:crypto';
import type { FakeRequest, FakeResponse, HttpsProxy } from './https-proxy.js';
import { decodeJwt, verifyJwt } from './jwt.js';
import { generateRsaKeyPair } from './test-ca.js';

export const GOOGLE_TOKEN_HOST = 'oauth2.googleapis.com';
export const GOOGLE_TOKEN_URL = `https://${GOOGLE_TOKEN_HOST}/token`;
export const STS_HOST = 'sts.googleapis.com';
export const IAM_CREDENTIALS_HOST = 'iamcredentials.googleapis.com';
export const METADATA_HOSTS = ['metadata.google.internal', '169.254.169.254'];
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** The service account the fake metadata server speaks for. */
const METADATA_ACCOUNT = 'default@berth-project.iam.gserviceaccount.com';

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

/** A gcloud user: `gcloud auth application-default login` writes these three into the ADC file. */
export interface GoogleUser {
  email: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export function createUser(email = 'dev@example.com'): GoogleUser {
  return {
    email,
    clientId: `${randomBytes(6).toString('hex')}.apps.googleusercontent.com`,
    clientSecret: randomBytes(12).toString('base64url'),
    refreshToken: `1//${randomBytes(24).toString('base64url')}`,
  };
}

/** The ADC file gcloud writes for a user (`authorized_user`). */
export function userAdc(user: GoogleUser): Record<string, unknown> {
  return { type: 'authorized_user', client_id: user.clientId, client_secret: user.clientSecret, refresh_token: user.refreshToken };
}

/** The ADC file `gcloud auth application-default login --impersonate-service-account=TARGET` writes. */
export function impersonatedAdc(user: GoogleUser, target: string): Record<string, unknown> {
  return {
    type: 'impersonated_service_account',
    service_account_impersonation_url: `https://${IAM_CREDENTIALS_HOST}/v1/projects/-/serviceAccounts/${target}:generateAccessToken`,
    source_credentials: userAdc(user),
    delegates: [],
  };
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
  /** Users whose refresh tokens the token endpoint redeems. */
  users?: GoogleUser[];
  /** Token Creator grants: caller (user or service account email) to the service accounts it may act as. */
  tokenCreators?: Record<string, string[]>;
  /** The access token to issue; a fresh random one per call when not given. */
  accessToken?: string | (() => string);
  /** Seconds; Google issues 3599. */
  expiresIn?: number;
}

const oauthError = (error: string, description: string, status = 400): FakeResponse => ({
  status,
  json: { error, error_description: description },
});

export class FakeGoogle {
  readonly calls = { token: 0, sts: 0, metadataToken: 0, metadata: 0, generateAccessToken: 0 };
  /** Tokens issued, in order. */
  readonly issued: string[] = [];
  /** Whom each issued token speaks for: a user's or service account's email, or a federated workload. */
  readonly #principals = new Map<string, string>();
  /** Scopes requested in the last accepted assertion, exchange or metadata call. */
  lastScope?: string;
  readonly #options: FakeGoogleOptions;

  constructor(options: FakeGoogleOptions = {}) {
    this.#options = options;
  }

  install(proxy: HttpsProxy): void {
    proxy.route(GOOGLE_TOKEN_HOST, (request) => this.#token(request));
    proxy.route(STS_HOST, (request) => this.#sts(request));
    proxy.route(IAM_CREDENTIALS_HOST, (request) => this.#generateAccessToken(request));
    for (const host of METADATA_HOSTS) proxy.route(host, (request) => this.#metadata(request));
  }

  #mint(principal: string, scope: string): string {
    const configured = this.#options.accessToken;
    const token = typeof configured === 'function' ? configured() : (configured ?? `ya29.${randomBytes(24).toString('base64url')}`);
    this.issued.push(token);
    this.#principals.set(token, principal);
    this.lastScope = scope;
    return token;
  }

  #issue(principal: string, scope: string): FakeResponse {
    return { json: { access_token: this.#mint(principal, scope), expires_in: this.#options.expiresIn ?? 3599, token_type: 'Bearer' } };
  }

  /** The OAuth token endpoint: a service account's signed assertion (JWT bearer grant), or a user's refresh token. */
  #token(request: FakeRequest): FakeResponse {
    this.calls.token++;
    if (request.method !== 'POST' || request.url.pathname !== '/token') return { status: 404, text: 'Not Found' };
    if (!request.isForm) return oauthError('invalid_request', 'Invalid content type: expected application/x-www-form-urlencoded');
    if (request.form.get('grant_type') === 'refresh_token') return this.#refresh(request.form);
    if (request.form.get('grant_type') !== JWT_BEARER)
      return oauthError('unsupported_grant_type', `Invalid grant_type: ${request.form.get('grant_type')}`);
    const assertion = request.form.get('assertion') ?? '';
    const claims = decodeJwt(assertion)?.claims;
    const account = (this.#options.serviceAccounts ?? []).find((candidate) => candidate.email === claims?.iss);
    if (!claims || !account) return oauthError('invalid_grant', 'Invalid grant: account not found');
    if (!verifyJwt(assertion, account.publicKeyPem)) return oauthError('invalid_grant', 'Invalid JWT Signature.');
    const now = Math.floor(Date.now() / 1000);
    const iat = Number(claims.iat);
    const exp = Number(claims.exp);
    if (claims.aud !== GOOGLE_TOKEN_URL) return oauthError('invalid_grant', 'Invalid JWT: Failed audience check.');
    if (!(exp > now && iat <= now + 300 && exp - iat <= 3600)) {
      return oauthError(
        'invalid_grant',
        'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.',
      );
    }
    if (typeof claims.scope !== 'string' || claims.scope === '')
      return oauthError('invalid_scope', 'Invalid OAuth scope or ID token audience provided.');
    return this.#issue(account.email, claims.scope);
  }

  /** The refresh token grant: the OAuth client must be the one the refresh token was issued to. */
  #refresh(form: URLSearchParams): FakeResponse {
    const user = (this.#options.users ?? []).find((candidate) => candidate.clientId === form.get('client_id'));
    if (!user || user.clientSecret !== form.get('client_secret'))
      return oauthError('invalid_client', 'The OAuth client was not found.', 401);
    if (user.refreshToken !== form.get('refresh_token')) return oauthError('invalid_grant', 'Token has been expired or revoked.');
    return this.#issue(user.email, 'openid https://www.googleapis.com/auth/userinfo.email https://www.googleapis.com/auth/cloud-platform');
  }

  /**
   * IAM Credentials `generateAccessToken`: the caller's bearer token must be one this fake issued,
   * and its principal must hold the Token Creator role on the target service account.
   */
  #generateAccessToken(request: FakeRequest): FakeResponse {
    this.calls.generateAccessToken++;
    const match = /^\/v1\/projects\/-\/serviceAccounts\/([^/:]+):generateAccessToken$/.exec(request.url.pathname);
    if (request.method !== 'POST' || !match) return { status: 404, text: 'Not Found' };
    const target = decodeURIComponent(match[1]!);
    const googleError = (code: number, status: string, message: string): FakeResponse => ({
      status: code,
      json: { error: { code, message, status } },
    });
    const bearer = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
    const caller = bearer === undefined ? undefined : this.#principals.get(bearer);
    if (caller === undefined) {
      return googleError(
        401,
        'UNAUTHENTICATED',
        'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      );
    }
    if (!(this.#options.tokenCreators?.[caller] ?? []).includes(target)) {
      return googleError(
        403,
        'PERMISSION_DENIED',
        "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
      );
    }
    let body: { scope?: unknown; lifetime?: unknown };
    try {
      body = JSON.parse(request.body) as typeof body;
    } catch {
      return googleError(400, 'INVALID_ARGUMENT', 'Invalid JSON payload received.');
    }
    const scopes = Array.isArray(body.scope) ? body.scope.filter((scope): scope is string => typeof scope === 'string') : [];
    if (scopes.length === 0) return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    const lifetime = body.lifetime === undefined ? 3600 : Number(/^(\d+)s$/.exec(String(body.lifetime))?.[1] ?? Number.NaN);
    if (!(lifetime > 0 && lifetime <= 3600)) return googleError(400, 'INVALID_ARGUMENT', 'Request contains an invalid argument.');
    const seconds = Math.min(lifetime, this.#options.expiresIn ?? 3599);
    const expireTime = new Date(Math.floor(Date.now() / 1000 + seconds) * 1000).toISOString().replace('.000Z', 'Z');
    return { json: { accessToken: this.#mint(target, scopes.join(' ')), expireTime } };
  }

  /**
   * STS token exchange (workload identity federation): the subject token must be signed by the
   * pool provider's issuer and name the provider (with an https: prefix) as its audience.
   */
  #sts(request: FakeRequest): FakeResponse {
    this.calls.sts++;
    if (request.method !== 'POST' || request.url.pathname !== '/v1/token') return { status: 404, text: 'Not Found' };
    const form = request.form;
    if (form.get('grant_type') !== 'urn:ietf:params:oauth:grant-type:token-exchange')
      return oauthError('invalid_request', 'Invalid value for "grant_type"');
    const pool = (this.#options.workloadPools ?? []).find((candidate) => candidate.audience === form.get('audience'));
    if (!pool) return oauthError('invalid_target', 'The target service indicated by the "audience" parameters is invalid.');
    const claims = verifyJwt(form.get('subject_token') ?? '', pool.publicKeyPem)?.claims;
    if (!claims || claims.iss !== pool.issuer)
      return oauthError('invalid_grant', 'The ID Token signature or issuer does not match the provider configuration.');
    if (![claims.aud].flat().includes(`https:${pool.audience}`))
      return oauthError('invalid_grant', 'The audience in ID Token does not match the expected audience.');
    if (!(Number(claims.exp) > Math.floor(Date.now() / 1000))) return oauthError('invalid_grant', 'ID Token has expired.');
    const reply = this.#issue(`workload:${claims.sub}`, form.get('scope') ?? '');
    return { json: { ...(reply.json as object), issued_token_type: 'urn:ietf:params:oauth:token-type:access_token' } };
  }

  /**
   * The GCE metadata server. The real one refuses requests without `Metadata-Flavor: Google`, and
   * requests that went through a proxy adding X-Forwarded-For; it marks every answer with the header.
   */
  #metadata(request: FakeRequest): FakeResponse {
    this.calls.metadata++;
    const flavor = { 'Metadata-Flavor': 'Google' };
    if (request.headers['metadata-flavor'] !== 'Google' || request.headers['x-forwarded-for']) {
      return { status: 403, headers: flavor, text: 'Missing required header "Metadata-Flavor": "Google"' };
    }
    const path = request.url.pathname;
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      this.calls.metadataToken++;
      return { ...this.#issue(METADATA_ACCOUNT, request.url.searchParams.get('scopes') ?? ''), headers: flavor };
    }
    if (path === '/computeMetadata/v1/instance/service-accounts/default/email') return { headers: flavor, text: METADATA_ACCOUNT };
    if (path === '/computeMetadata/v1/project/project-id') return { headers: flavor, text: 'berth-project' };
    if (path === '/' || path.startsWith('/computeMetadata/v1/instance')) return { headers: flavor, text: '' };
    return { status: 404, headers: flavor, text: 'Not Found' };
  }
}

export function fakeGoogle(options: FakeGoogleOptions = {}): FakeGoogle {
  return new FakeGoogle(options);
}
