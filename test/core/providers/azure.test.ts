// The Azure provider, run in a child process with the unmodified @azure/identity and undici talking
// through the test proxy to a fake Entra (which checks the secret or the certificate's signature) and
// a fake registry `/oauth2/exchange` (which checks the Entra token).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.js';
import { azureCloud, azureProvider, jwtExpiry } from '../../../core/providers/azure.js';
import { ACR_AUDIENCE, ENTRA_HOST, fakeAzure, type FakeAzure } from '../../fakes/azure-cloud.js';
import { startHttpsProxy, type HttpsProxy } from '../../fakes/https-proxy.js';
import { bundleProviderChild, eagerInputs, runProvider, type ProviderRun } from '../../fakes/run-provider.js';
import { signJwt } from '../../fakes/jwt.js';
import { createClientCertificate, generateRsaKeyPair, type ClientCertificate, type KeyPairPem } from '../../fakes/test-ca.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

const HOST = 'berthtest.azurecr.io';
const CHINA_HOST = 'berthtest.azurecr.cn';
const CUSTOM_AUTHORITY = 'login.sovereign.test';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const SECRET_CLIENT = '11111111-2222-3333-4444-555555555555';
const CERT_CLIENT = '66666666-7777-8888-9999-000000000000';
const CLIENT_SECRET = 'Qx8~secret-value-for-tests';
const WORKLOAD_CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const ISSUER = 'https://oidc.prod-aks.azure.com/berth-test/';
const SUBJECT = 'system:serviceaccount:ci:berth';
const REFRESH_LIFETIME = 2 * 60 * 60;

let dir: string;
let script: string;
let proxy: HttpsProxy;
let azure: FakeAzure;
let certificate: ClientCertificate;
let certificatePath: string;
let issuerKeys: KeyPairPem;

beforeAll(async () => {
  dir = await fixtureDir('berth-azure-');
  script = await bundleProviderChild(dir);
  proxy = await startHttpsProxy({ dir });
  certificate = createClientCertificate('berth-test-app');
  issuerKeys = generateRsaKeyPair();
  certificatePath = join(dir, 'client.pem');
  writeFileSync(certificatePath, `${certificate.keyPem}${certificate.certPem}`, { mode: 0o600 });
  azure = fakeAzure({
    tenantId: TENANT,
    clients: [
      { clientId: SECRET_CLIENT, secret: CLIENT_SECRET },
      { clientId: CERT_CLIENT, certificate },
      { clientId: WORKLOAD_CLIENT, federated: { issuer: ISSUER, subject: SUBJECT, publicKeyPem: issuerKeys.publicKeyPem } },
    ],
    registries: [HOST, CHINA_HOST],
    entraHosts: [ENTRA_HOST, 'login.chinacloudapi.cn', 'login.partner.microsoftonline.cn', CUSTOM_AUTHORITY],
    audiences: [ACR_AUDIENCE, 'https://containerregistry.azure.cn'],
    refreshTokenLifetime: REFRESH_LIFETIME,
  });
  azure.install(proxy);
});

afterAll(async () => {
  await proxy?.close();
  if (dir) await removeDir(dir);
});

function childEnv(extra: Record<string, string>): Record<string, string> {
  return { HOME: mkdtempSync(join(dir, 'home-')), ...proxy.env, AZURE_TENANT_ID: TENANT, ...extra };
}

function expectRefreshToken(run: ProviderRun, startedAt: number, host = HOST): void {
  expect(run.error).toBeUndefined();
  expect(run.exitCode).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.credential?.username).toBe('00000000-0000-0000-0000-000000000000');
  expect(run.credential?.secret).toBe(azure.issued.at(-1));
  // The expiry is the refresh token's own `exp` (2 h here), not the 3 h default.
  const expiresAt = Date.parse(run.credential?.expiresAt ?? '');
  expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(startedAt / 1000) * 1000 + REFRESH_LIFETIME * 1000 - 1000);
  expect(expiresAt).toBeLessThanOrEqual(Date.now() + REFRESH_LIFETIME * 1000);
  expect(azure.lastExchange?.get('service')).toBe(host);
  expect(azure.lastExchange?.get('tenant')).toBe(TENANT);
  expect(proxy.errors).toEqual([]);
}

describe('azureProvider', () => {
  it('exchanges a client-secret Entra token for an ACR refresh token', async () => {
    const before = { ...azure.calls };
    const startedAt = Date.now();
    const run = await runProvider(
      script,
      'azure',
      { registryHost: HOST },
      childEnv({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: CLIENT_SECRET }),
    );
    expectRefreshToken(run, startedAt);
    expect(azure.calls.token).toBe(before.token + 1);
    expect(azure.calls.exchange).toBe(before.exchange + 1);
    expect(proxy.refused).toEqual([]);
  });

  it('signs a client assertion with the certificate from AZURE_CLIENT_CERTIFICATE_PATH', async () => {
    const startedAt = Date.now();
    const run = await runProvider(
      script,
      'azure',
      { registryHost: HOST },
      childEnv({ AZURE_CLIENT_ID: CERT_CLIENT, AZURE_CLIENT_CERTIFICATE_PATH: certificatePath }),
    );
    expectRefreshToken(run, startedAt);
  });

  it('takes the tenant and client id from the registry options', async () => {
    const startedAt = Date.now();
    const env = childEnv({ AZURE_CLIENT_SECRET: CLIENT_SECRET });
    delete env.AZURE_TENANT_ID;
    const run = await runProvider(script, 'azure', { registryHost: HOST, options: { tenantId: TENANT, clientId: SECRET_CLIENT } }, env);
    expectRefreshToken(run, startedAt);
  });

  it('uses the workload identity token file (AKS workload identity)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const tokenFile = join(dir, 'azure-identity-token');
    const serviceAccountToken = signJwt(
      { iss: ISSUER, sub: SUBJECT, aud: ['api://AzureADTokenExchange'], iat: now, exp: now + 3600 },
      issuerKeys.privateKeyPem,
    );
    writeFileSync(tokenFile, serviceAccountToken, { mode: 0o600 });
    const startedAt = Date.now();
    const run = await runProvider(
      script,
      'azure',
      { registryHost: HOST },
      childEnv({ AZURE_CLIENT_ID: WORKLOAD_CLIENT, AZURE_FEDERATED_TOKEN_FILE: tokenFile }),
    );
    expectRefreshToken(run, startedAt);
  });

  it('uses the managed identity from IMDS when no identity is configured, tenant from the token', async () => {
    const env = childEnv({});
    delete env.AZURE_TENANT_ID;
    const before = azure.calls.imds;
    const startedAt = Date.now();
    const run = await runProvider(script, 'azure', { registryHost: HOST }, env);
    expectRefreshToken(run, startedAt);
    expect(azure.calls.imds).toBeGreaterThan(before);
  });

  it('asks the registry cloud for its own audience (Azure China)', async () => {
    const startedAt = Date.now();
    const before = proxy.log.length;
    const run = await runProvider(
      script,
      'azure',
      { registryHost: CHINA_HOST },
      childEnv({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: CLIENT_SECRET }),
    );
    expectRefreshToken(run, startedAt, CHINA_HOST);
    // MSAL knows login.chinacloudapi.cn and posts to its preferred network host, as with the real cloud.
    expect(proxy.log.slice(before)).toEqual([
      `POST login.partner.microsoftonline.cn/${TENANT}/oauth2/v2.0/token`,
      `POST ${CHINA_HOST}/oauth2/exchange`,
    ]);
    expect(azure.lastScope).toBe('https://containerregistry.azure.cn/.default');
  });

  it('honours AZURE_AUTHORITY_HOST', async () => {
    const startedAt = Date.now();
    const before = proxy.log.length;
    const env = childEnv({
      AZURE_CLIENT_ID: SECRET_CLIENT,
      AZURE_CLIENT_SECRET: CLIENT_SECRET,
      AZURE_AUTHORITY_HOST: `https://${CUSTOM_AUTHORITY}`,
    });
    const run = await runProvider(script, 'azure', { registryHost: HOST }, env);
    expectRefreshToken(run, startedAt);
    // An authority MSAL does not know is checked with instance discovery first, then used.
    expect(proxy.log.slice(before)).toEqual([
      'GET login.microsoftonline.com/common/discovery/instance',
      `GET ${CUSTOM_AUTHORITY}/${TENANT}/v2.0/.well-known/openid-configuration`,
      `POST ${CUSTOM_AUTHORITY}/${TENANT}/oauth2/v2.0/token`,
      `POST ${HOST}/oauth2/exchange`,
    ]);
  });

  it('says no credential was found when nothing is configured', async () => {
    // IMDS is never reached through a proxy; without NO_PROXY the SDK retries the proxy's 502s.
    const env = childEnv({ NO_PROXY: '169.254.169.254' });
    delete env.AZURE_TENANT_ID;
    const run = await runProvider(script, 'azure', { registryHost: HOST }, env);
    expect(run.exitCode).toBe(1);
    expect(run.error?.message).toBe(
      `default Azure credential: none found (no service principal variables, no managed identity, no az login)`,
    );
    expect(run.error?.hint).toMatch(/az login/);
  });

  it('honours NO_PROXY for the exchange (undici EnvHttpProxyAgent, not Node fetch)', async () => {
    const before = azure.calls.exchange;
    const env = childEnv({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: CLIENT_SECRET, NO_PROXY: HOST });
    const run = await runProvider(script, 'azure', { registryHost: HOST }, env);
    // Entra went through the proxy; the registry was dialled directly, and there is no such host here.
    expect(run.error?.message).toMatch(/^ACR token exchange: /);
    expect(azure.calls.exchange).toBe(before);
  });

  it('reports a wrong client secret in one line with the AADSTS code and a hint', async () => {
    const run = await runProvider(
      script,
      'azure',
      { registryHost: HOST },
      childEnv({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: 'wrong' }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.error?.name).toBe('ProviderError');
    expect(run.error?.message).toBe(`client secret of ${SECRET_CLIENT}: AADSTS7000215: Invalid client secret provided.`);
    expect(run.error?.hint).toMatch(/client secret is wrong or expired/);
    expect(run.stdout).not.toContain('wrong"');
  });

  it('reports a certificate Entra does not know', async () => {
    const stranger = createClientCertificate('someone-else');
    const strangerPath = join(dir, 'stranger.pem');
    writeFileSync(strangerPath, `${stranger.keyPem}${stranger.certPem}`, { mode: 0o600 });
    const run = await runProvider(
      script,
      'azure',
      { registryHost: HOST },
      childEnv({ AZURE_CLIENT_ID: CERT_CLIENT, AZURE_CLIENT_CERTIFICATE_PATH: strangerPath }),
    );
    expect(run.error?.message).toBe(`certificate ${strangerPath}: AADSTS700027: Client assertion failed signature validation.`);
  });

  it('reports a registry that refuses the exchange with its status and message', async () => {
    const other = 'otherregistry.azurecr.io';
    proxy.route(other, () => ({ status: 401, json: { errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] } }));
    const run = await runProvider(
      script,
      'azure',
      { registryHost: other },
      childEnv({ AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: CLIENT_SECRET }),
    );
    expect(run.error?.message).toBe(`ACR token exchange: 401 UNAUTHORIZED: authentication required`);
    expect(run.error?.hint).toMatch(/AcrPull/);
  });
});

describe('azureProvider settings', () => {
  it('refuses a service principal without a tenant before asking Entra', async () => {
    const env = { AZURE_CLIENT_ID: SECRET_CLIENT, AZURE_CLIENT_SECRET: CLIENT_SECRET };
    const attempt = azureProvider({ registryHost: HOST, options: {}, env, now: Date.now });
    await expect(attempt).rejects.toBeInstanceOf(ProviderError);
    await expect(attempt).rejects.toMatchObject({
      message: `AZURE_CLIENT_SECRET is set but AZURE_TENANT_ID (or the "tenantId" option) is not`,
      hint: "set AZURE_TENANT_ID to the app registration's value",
    });
  });
});

describe('azureCloud', () => {
  it.each([
    ['myregistry.azurecr.io', 'https://login.microsoftonline.com', 'https://containerregistry.azure.net/.default'],
    ['myregistry.azurecr.cn', 'https://login.chinacloudapi.cn', 'https://containerregistry.azure.cn/.default'],
    ['myregistry.azurecr.us', 'https://login.microsoftonline.us', 'https://containerregistry.azure.us/.default'],
    ['myregistry.azurecr.de', 'https://login.microsoftonline.de', 'https://management.core.cloudapi.de/.default'],
    ['myregistry.azurecr.cn.evil.example', 'https://login.microsoftonline.com', 'https://containerregistry.azure.net/.default'],
  ])('%s → %s, %s', (host, authorityHost, scope) => {
    expect(azureCloud(host)).toEqual({ authorityHost, scope });
  });
});

describe('jwtExpiry', () => {
  const jwt = (claims: object): string => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;
  it('reads exp in milliseconds', () => expect(jwtExpiry(jwt({ exp: 1_800_000_000 }))).toBe(1_800_000_000_000));
  it('is undefined without a numeric exp or for a non-JWT', () => {
    expect(jwtExpiry(jwt({ exp: 'soon' }))).toBeUndefined();
    expect(jwtExpiry('opaque-token')).toBeUndefined();
  });
});

describe('azureProvider loading', () => {
  it('does not load the cloud SDK until a credential is asked for', async () => {
    const eager = await eagerInputs('core/providers/azure.ts');
    expect(eager).toContain('core/providers/azure.ts');
    for (const sdk of ['@azure/identity', '@azure/msal-node', 'undici'])
      expect(eager.filter((input) => input.includes(`node_modules/${sdk}/`))).toEqual([]);
  });
});
