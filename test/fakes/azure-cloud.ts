/**
 * @module
 * Fake Microsoft Entra and Azure Container Registry endpoints for the HTTPS proxy. Entra's v2.0
 * token endpoint checks client credentials as the real one does (secret, or a client assertion JWT
 * signed by the registered certificate's key) and issues a signed access token; the registry's
 * `/oauth2/exchange` checks that token's signature, audience, tenant and expiry and issues a refresh
 * token JWT with `exp`. Issued tokens are configurable; calls are counted.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { FakeRequest, FakeResponse, HttpsProxy } from './https-proxy.js';
import { decodeJwt, signJwt, verifyJwt } from './jwt.js';
import { generateRsaKeyPair, type ClientCertificate } from './test-ca.js';

export const ENTRA_HOST = 'login.microsoftonline.com';
export const ACR_AUDIENCE = 'https://containerregistry.azure.net';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface FakeAzureClient {
  clientId: string;
  secret?: string;
  certificate?: ClientCertificate;
  /** A federated identity credential: tokens from this issuer for this subject (workload identity). */
  federated?: { issuer: string; subject: string; publicKeyPem: string };
}

/** The audience Entra requires of federated tokens. */
export const FEDERATED_AUDIENCE = 'api://AzureADTokenExchange';
/** Azure's instance metadata service, which serves managed identity tokens. */
export const IMDS_HOST = '169.254.169.254';

export interface FakeAzureOptions {
  tenantId: string;
  clients: FakeAzureClient[];
  /** Entra authority hosts to answer as (login.microsoftonline.com by default). */
  entraHosts?: string[];
  /** Registry hosts that answer `/oauth2/exchange`, e.g. `berthtest.azurecr.io`. */
  registries: string[];
  /** The refresh token to issue; a signed JWT expiring after `refreshTokenLifetime` s when not given. */
  refreshToken?: string | (() => string);
  refreshTokenLifetime?: number;
  accessTokenLifetime?: number;
  /** Audiences the registries accept (ACR's own by default). */
  audiences?: string[];
}

/** Entra's error shape: the AADSTS code leads the description. */
function entraError(status: number, error: string, code: number, description: string): FakeResponse {
  return {
    status,
    json: {
      error,
      error_description: `AADSTS${code}: ${description} Trace ID: ${randomUUID()} Correlation ID: ${randomUUID()} Timestamp: ${new Date().toISOString()}`,
      error_codes: [code],
      timestamp: new Date().toISOString(),
      trace_id: randomUUID(),
      correlation_id: randomUUID(),
    },
  };
}

const acrError = (message: string): FakeResponse => ({ status: 401, json: { errors: [{ code: 'UNAUTHORIZED', message }] } });

const now = (): number => Math.floor(Date.now() / 1000);

export class FakeAzure {
  readonly calls = { token: 0, exchange: 0, discovery: 0, imds: 0 };
  /** Refresh tokens issued, in order. */
  readonly issued: string[] = [];
  /** The scope of the last token request. */
  lastScope?: string;
  /** The form of the last exchange request. */
  lastExchange?: URLSearchParams;
  readonly #options: FakeAzureOptions;
  readonly #audiences: string[];
  readonly #entraKeys = generateRsaKeyPair();
  readonly #acrKeys = generateRsaKeyPair();

  constructor(options: FakeAzureOptions) {
    this.#options = options;
    this.#audiences = options.audiences ?? [ACR_AUDIENCE];
  }

  install(proxy: HttpsProxy): void {
    for (const host of this.#options.entraHosts ?? [ENTRA_HOST]) proxy.route(host, (request) => this.#entra(request));
    for (const registry of this.#options.registries) proxy.route(registry, (request) => this.#exchange(request));
    proxy.route(IMDS_HOST, (request) => this.#imds(request));
  }

  #entra(request: FakeRequest): FakeResponse {
    const path = request.url.pathname;
    const tenant = path.split('/')[1] ?? '';
    if (request.method === 'GET' && path.endsWith('/v2.0/.well-known/openid-configuration')) {
      this.calls.discovery++;
      if (tenant !== this.#options.tenantId) return entraError(400, 'invalid_tenant', 90002, `Tenant '${tenant}' not found.`);
      return { json: openIdConfiguration(request.host, tenant) };
    }
    if (request.method === 'GET' && path === '/common/discovery/instance') {
      this.calls.discovery++;
      return { json: instanceDiscovery(request.host) };
    }
    if (request.method !== 'POST' || path !== `/${tenant}/oauth2/v2.0/token`) return { status: 404, text: 'Not Found' };
    this.calls.token++;
    return this.#token(request, tenant);
  }

  /** The v2.0 token endpoint, client credentials grant. */
  #token(request: FakeRequest, tenant: string): FakeResponse {
    const form = request.form;
    if (!request.isForm)
      return entraError(400, 'invalid_request', 900144, "The request body must contain the following parameter: 'grant_type'.");
    if (tenant !== this.#options.tenantId) return entraError(400, 'invalid_request', 90002, `Tenant '${tenant}' not found.`);
    if (form.get('grant_type') !== 'client_credentials')
      return entraError(400, 'unsupported_grant_type', 70003, 'The app requested an unsupported grant type.');
    const refused = this.#authenticate(form, `https://${request.host}/${tenant}/oauth2/v2.0/token`);
    if (refused) return refused;
    const scope = form.get('scope') ?? '';
    this.lastScope = scope;
    const audience = scope.replace(/\/\.default$/, '');
    if (!scope.endsWith('/.default') || !this.#audiences.includes(audience)) {
      return entraError(
        400,
        'invalid_resource',
        500011,
        `The resource principal named ${audience} was not found in the tenant named ${tenant}.`,
      );
    }
    const { token, lifetime } = this.#accessToken(tenant, audience, form.get('client_id') ?? '');
    return { json: { token_type: 'Bearer', expires_in: lifetime, ext_expires_in: lifetime, access_token: token } };
  }

  /** Checks the client's proof; undefined when it holds, else Entra's answer. */
  #authenticate(form: URLSearchParams, tokenUrl: string): FakeResponse | undefined {
    const client = this.#options.clients.find((candidate) => candidate.clientId === form.get('client_id'));
    if (!client)
      return entraError(
        400,
        'unauthorized_client',
        700016,
        `Application with identifier '${form.get('client_id')}' was not found in the directory '${this.#options.tenantId}'.`,
      );
    if (form.has('client_secret')) {
      return client.secret !== undefined && form.get('client_secret') === client.secret
        ? undefined
        : entraError(
            401,
            'invalid_client',
            7000215,
            'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
          );
    }
    const assertion = form.get('client_assertion') ?? '';
    if (form.get('client_assertion_type') === ASSERTION_TYPE && client.federated) return checkFederated(assertion, client.federated);
    if (form.get('client_assertion_type') === ASSERTION_TYPE && client.certificate)
      return checkCertificate(assertion, client.clientId, client.certificate, tokenUrl);
    return entraError(
      401,
      'invalid_client',
      7000218,
      "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    );
  }

  /** An access token as Entra signs it; the registry checks it with the matching public key. */
  #accessToken(tenant: string, audience: string, clientId: string): { token: string; lifetime: number } {
    const lifetime = this.#options.accessTokenLifetime ?? 3599;
    const claims = {
      aud: audience,
      iss: `https://sts.windows.net/${tenant}/`,
      tid: tenant,
      appid: clientId,
      oid: randomUUID(),
      iat: now(),
      nbf: now(),
      exp: now() + lifetime,
    };
    return { token: signJwt(claims, this.#entraKeys.privateKeyPem, { kid: 'entra-test-key' }), lifetime };
  }

  /** IMDS: the token for the VM's managed identity; the real service wants `Metadata: true`. */
  #imds(request: FakeRequest): FakeResponse {
    this.calls.imds++;
    if (request.headers.metadata !== 'true')
      return { status: 400, json: { error: 'invalid_request', error_description: 'Required metadata header not specified' } };
    if (request.url.pathname !== '/metadata/identity/oauth2/token') return { status: 404, json: { error: 'not_found' } };
    const resource = (request.url.searchParams.get('resource') ?? '').replace(/\/$/, '');
    if (!this.#audiences.includes(resource)) {
      return {
        status: 400,
        json: {
          error: 'invalid_resource',
          error_description: `AADSTS500011: The resource principal named ${resource} was not found in the tenant.`,
        },
      };
    }
    this.lastScope = `${resource}/.default`;
    const { token, lifetime } = this.#accessToken(this.#options.tenantId, resource, 'managed-identity');
    const times = {
      expires_in: String(lifetime),
      expires_on: String(now() + lifetime),
      ext_expires_in: String(lifetime),
      not_before: String(now()),
    };
    return { json: { access_token: token, client_id: 'managed-identity', ...times, resource, token_type: 'Bearer' } };
  }

  /** ACR's `/oauth2/exchange`: an Entra access token in, a refresh token out. */
  #exchange(request: FakeRequest): FakeResponse | undefined {
    // Anything else (the registry API itself) is for the real registry the proxy may forward to.
    if (request.method !== 'POST' || request.url.pathname !== '/oauth2/exchange') return undefined;
    this.calls.exchange++;
    const form = request.form;
    this.lastExchange = form;
    if (!request.isForm) return { status: 400, json: { errors: [{ code: 'BAD_REQUEST', message: 'expected a form body' }] } };
    if (form.get('grant_type') !== 'access_token')
      return { status: 400, json: { errors: [{ code: 'BAD_REQUEST', message: 'unsupported grant_type' }] } };
    if (form.get('service') !== request.host) return acrError(`service ${form.get('service')} is not this registry`);
    const claims = verifyJwt(form.get('access_token') ?? '', this.#entraKeys.publicKeyPem)?.claims;
    if (!claims) return acrError('invalid access token signature');
    if (!this.#audiences.includes(String(claims.aud))) return acrError(`access token audience ${String(claims.aud)} is not accepted`);
    if (!(Number(claims.exp) > now())) return acrError('access token expired');
    if (form.has('tenant') && form.get('tenant') !== claims.tid) return acrError('tenant does not match the access token');
    const refreshToken = this.#refreshToken(request.host, claims);
    this.issued.push(refreshToken);
    return { json: { refresh_token: refreshToken } };
  }

  #refreshToken(registryHost: string, accessClaims: Record<string, unknown>): string {
    const configured = this.#options.refreshToken;
    if (configured !== undefined) return typeof configured === 'function' ? configured() : configured;
    const lifetime = this.#options.refreshTokenLifetime ?? 3 * 60 * 60;
    const claims = {
      jti: randomUUID(),
      sub: accessClaims.oid,
      iss: 'Azure Container Registry',
      aud: registryHost,
      tenant: accessClaims.tid,
      grant_type: 'refresh_token',
    };
    return signJwt(
      { ...claims, nbf: now(), iat: now(), exp: now() + lifetime, nonce: randomBytes(8).toString('hex') },
      this.#acrKeys.privateKeyPem,
    );
  }
}

export function fakeAzure(options: FakeAzureOptions): FakeAzure {
  return new FakeAzure(options);
}

/** A federated credential's check: the workload's token, signed by its issuer, for Entra's audience. */
function checkFederated(assertion: string, federated: NonNullable<FakeAzureClient['federated']>): FakeResponse | undefined {
  const claims = verifyJwt(assertion, federated.publicKeyPem)?.claims;
  const audience = [claims?.aud].flat();
  if (!claims || claims.iss !== federated.issuer || claims.sub !== federated.subject || !audience.includes(FEDERATED_AUDIENCE)) {
    return entraError(400, 'invalid_client', 70021, 'No matching federated identity record found for presented assertion.');
  }
  if (!(Number(claims.exp) > now()))
    return entraError(400, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
  return undefined;
}

/** A certificate credential's check: found by thumbprint, signed by its key, for this endpoint. */
function checkCertificate(assertion: string, clientId: string, certificate: ClientCertificate, tokenUrl: string): FakeResponse | undefined {
  const header = decodeJwt(assertion)?.header;
  if (header?.x5t !== certificate.x5t && header?.['x5t#S256'] !== certificate.x5tS256) {
    return entraError(401, 'invalid_client', 700027, 'Client assertion failed signature validation. The key was not found.');
  }
  const claims = verifyJwt(assertion, certificate.publicKeyPem)?.claims;
  if (!claims) return entraError(401, 'invalid_client', 700027, 'Client assertion contains an invalid signature.');
  if (claims.aud !== tokenUrl)
    return entraError(401, 'invalid_client', 700021, 'Client assertion audience claim does not match Realm issuer.');
  if (claims.iss !== clientId || claims.sub !== clientId)
    return entraError(401, 'invalid_client', 700023, 'Client assertion issuer or subject is not the client.');
  if (!(Number(claims.exp) > now()))
    return entraError(401, 'invalid_client', 700024, 'Client assertion is not within its valid time range.');
  return undefined;
}

function openIdConfiguration(host: string, tenant: string): Record<string, unknown> {
  return {
    token_endpoint: `https://${host}/${tenant}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `https://${host}/${tenant}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `https://${host}/${tenant}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: 'https://graph.microsoft.com/oidc/userinfo',
    authorization_endpoint: `https://${host}/${tenant}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `https://${host}/${tenant}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `https://${host}/${tenant}/oauth2/v2.0/logout`,
    claims_supported: ['sub', 'iss', 'aud', 'exp', 'iat', 'nonce', 'tid'],
    kerberos_endpoint: `https://${host}/${tenant}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  };
}

function instanceDiscovery(host: string): Record<string, unknown> {
  return {
    tenant_discovery_endpoint: `https://${host}/common/v2.0/.well-known/openid-configuration`,
    'api-version': '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  };
}
