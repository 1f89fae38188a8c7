// The Google provider, run in a child process with the unmodified google-auth-library talking through
// the test proxy to fakes that check what Google checks (the assertion's RS256 signature).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createServiceAccount,
  createUser,
  fakeGoogle,
  impersonatedAdc,
  userAdc,
  type FakeGoogle,
  type GoogleServiceAccount,
  type GoogleUser,
} from '../../fakes/google-cloud.js';
import { startHttpsProxy, type HttpsProxy } from '../../fakes/https-proxy.js';
import { signJwt } from '../../fakes/jwt.js';
import { generateRsaKeyPair, type KeyPairPem } from '../../fakes/test-ca.js';
import { bundleProviderChild, eagerInputs, runProvider } from '../../fakes/run-provider.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

const HOST = 'europe-docker.pkg.dev';
const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const POOL_AUDIENCE = '//iam.googleapis.com/projects/123456/locations/global/workloadIdentityPools/ci/providers/github';
const ISSUER = 'https://token.actions.githubusercontent.com';

let dir: string;
let script: string;
let proxy: HttpsProxy;
let google: FakeGoogle;
let account: GoogleServiceAccount;
let keyFile: string;
let issuerKeys: KeyPairPem;
let user: GoogleUser;
/** A service account the user may act as, and one it may not. */
const DEPLOYER = 'deployer@berth-project.iam.gserviceaccount.com';
const AUDITOR = 'auditor@berth-project.iam.gserviceaccount.com';

beforeAll(async () => {
  dir = await fixtureDir('berth-google-');
  script = await bundleProviderChild(dir);
  proxy = await startHttpsProxy({ dir });
  account = createServiceAccount();
  issuerKeys = generateRsaKeyPair();
  user = createUser();
  google = fakeGoogle({
    serviceAccounts: [account],
    users: [user],
    tokenCreators: { [user.email]: [DEPLOYER] },
    workloadPools: [{ audience: POOL_AUDIENCE, issuer: ISSUER, publicKeyPem: issuerKeys.publicKeyPem }],
    expiresIn: 1800,
  });
  google.install(proxy);
  keyFile = join(dir, 'key.json');
  writeFileSync(keyFile, account.keyJson, { mode: 0o600 });
});

afterAll(async () => {
  await proxy?.close();
  if (dir) await removeDir(dir);
});

/** A child environment with a fresh HOME (no gcloud ADC file, unless `adc` is given) and the proxy. */
function childEnv(extra: Record<string, string> = {}, adc?: Record<string, unknown>): Record<string, string> {
  const home = mkdtempSync(join(dir, 'home-'));
  if (adc) {
    // where `gcloud auth application-default login` writes it
    mkdirSync(join(home, '.config', 'gcloud'), { recursive: true });
    writeFileSync(join(home, '.config', 'gcloud', 'application_default_credentials.json'), JSON.stringify(adc), { mode: 0o600 });
  }
  return { HOME: home, ...proxy.env, ...extra };
}

function expectFreshToken(run: Awaited<ReturnType<typeof runProvider>>, startedAt: number): void {
  expect(run.error).toBeUndefined();
  expect(run.exitCode).toBe(0);
  expect(run.stderr).toBe('');
  expect(run.credential?.username).toBe('oauth2accesstoken');
  expect(run.credential?.secret).toBe(google.issued.at(-1));
  const expiresAt = Date.parse(run.credential?.expiresAt ?? '');
  // The fake says expires_in 1800: the expiry is half an hour after the call, not the default hour.
  expect(expiresAt).toBeGreaterThanOrEqual(startedAt + 1800_000 - 5_000);
  expect(expiresAt).toBeLessThanOrEqual(Date.now() + 1800_000 + 5_000);
}

describe('googleProvider', () => {
  it('signs a service account assertion from GOOGLE_APPLICATION_CREDENTIALS and returns the access token', async () => {
    const before = google.calls.token;
    const startedAt = Date.now();
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({ GOOGLE_APPLICATION_CREDENTIALS: keyFile }));
    expectFreshToken(run, startedAt);
    expect(google.calls.token).toBe(before + 1);
    expect(google.lastScope).toBe(SCOPE);
  });

  it('reads the key from the keyFile option', async () => {
    const startedAt = Date.now();
    const run = await runProvider(script, 'google', { registryHost: 'gcr.io', options: { keyFile } }, childEnv());
    expectFreshToken(run, startedAt);
  });

  it('takes the key JSON from GOOGLE_AUTH_JSON, as text or base64', async () => {
    for (const value of [account.keyJson, Buffer.from(account.keyJson).toString('base64')]) {
      const startedAt = Date.now();
      const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({ GOOGLE_AUTH_JSON: value }));
      expectFreshToken(run, startedAt);
    }
  });

  it('gets the token from the metadata server when no key is configured', async () => {
    const before = google.calls.metadataToken;
    const startedAt = Date.now();
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({ GCE_METADATA_HOST: 'metadata.google.internal' }));
    expectFreshToken(run, startedAt);
    expect(google.calls.metadataToken).toBe(before + 1);
    expect(google.lastScope).toBe(SCOPE);
  });

  it('exchanges an OIDC token at STS with a workload identity federation config', async () => {
    const now = Math.floor(Date.now() / 1000);
    const subjectFile = join(dir, 'oidc-token');
    writeFileSync(
      subjectFile,
      signJwt(
        { iss: ISSUER, sub: 'repo:acme/app:ref:refs/heads/main', aud: `https:${POOL_AUDIENCE}`, iat: now, exp: now + 600 },
        issuerKeys.privateKeyPem,
      ),
    );
    const config = join(dir, 'wif.json');
    writeFileSync(
      config,
      JSON.stringify({
        type: 'external_account',
        audience: POOL_AUDIENCE,
        subject_token_type: 'urn:ietf:params:oauth:token-type:jwt',
        token_url: 'https://sts.googleapis.com/v1/token',
        credential_source: { file: subjectFile },
      }),
    );
    const before = google.calls.sts;
    const startedAt = Date.now();
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({ GOOGLE_APPLICATION_CREDENTIALS: config }));
    expectFreshToken(run, startedAt);
    expect(google.calls.sts).toBe(before + 1);
    expect(google.lastScope).toBe(SCOPE);
  });

  it("redeems the refresh token of gcloud's user login (ADC file in ~/.config/gcloud)", async () => {
    const before = google.calls.token;
    const startedAt = Date.now();
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({}, userAdc(user)));
    expectFreshToken(run, startedAt);
    expect(google.calls.token).toBe(before + 1);
  });

  it('impersonates a service account from a gcloud login, with the expiry IAM Credentials gives', async () => {
    const before = { token: google.calls.token, iam: google.calls.generateAccessToken };
    const startedAt = Date.now();
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({}, impersonatedAdc(user, DEPLOYER)));
    // the user's token only signs the IAM call; the registry gets the service account's token
    expectFreshToken(run, startedAt);
    expect(google.calls.token).toBe(before.token + 1);
    expect(google.calls.generateAccessToken).toBe(before.iam + 1);
    expect(google.lastScope).toBe(SCOPE);
  });

  it('says which role is missing when the login may not impersonate the service account', async () => {
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({}, impersonatedAdc(user, AUDITOR)));
    expect(run.exitCode).toBe(1);
    expect(run.error?.name).toBe('ProviderError');
    expect(run.error?.message).toBe(
      "application default credentials: PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).",
    );
    expect(run.error?.hint).toMatch(/roles\/iam\.serviceAccountTokenCreator/);
  });

  it('asks for a new gcloud login when Google refuses the refresh token, also when impersonating', async () => {
    const revoked = { ...user, refreshToken: '1//0gRevokedRefreshTokenValue' };
    for (const adc of [userAdc(revoked), impersonatedAdc(revoked, DEPLOYER)]) {
      const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({}, adc));
      expect(run.exitCode).toBe(1);
      expect(run.error?.message).toBe('application default credentials: invalid_grant: Token has been expired or revoked.');
      expect(run.error?.hint).toMatch(/gcloud auth application-default login/);
      // the refresh token and the client secret are secrets
      expect(run.stdout).not.toContain(revoked.refreshToken);
      expect(run.stdout).not.toContain(user.clientSecret);
    }
  });

  it('reports a key Google does not know as invalid_grant, in one line with a hint', async () => {
    const stranger = createServiceAccount(account.email);
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({ GOOGLE_AUTH_JSON: stranger.keyJson }));
    expect(run.exitCode).toBe(1);
    expect(run.error?.name).toBe('ProviderError');
    expect(run.error?.message).toBe(`GOOGLE_AUTH_JSON: invalid_grant: Invalid JWT Signature.`);
    expect(run.error?.hint).toMatch(/key was deleted or disabled/);
    expect(run.stdout).not.toContain('PRIVATE KEY');
  });

  it('names a GOOGLE_AUTH_JSON that is not a credential without echoing it', async () => {
    const run = await runProvider(script, 'google', { registryHost: HOST }, childEnv({ GOOGLE_AUTH_JSON: 'not-json-secret-value' }));
    expect(run.error?.message).toBe(`GOOGLE_AUTH_JSON is not a Google credential JSON (nor base64 of one)`);
    expect(run.stdout).not.toContain('not-json-secret-value');
  });

  it('names a missing key file', async () => {
    const missing = join(dir, 'missing.json');
    const run = await runProvider(script, 'google', { registryHost: HOST, options: { keyFile: missing } }, childEnv());
    expect(run.error?.message).toBe(`key file ${missing}: cannot read the credential file: ENOENT`);
  });

  it('says no credentials were found when there is no key, no ADC file and no metadata server', async () => {
    // A proxy that serves no Google host: the metadata server is unreachable, as off Google Cloud.
    const bare = await startHttpsProxy({ dir: mkdtempSync(join(dir, 'bare-')) });
    const run = await runProvider(script, 'google', { registryHost: HOST }, { ...childEnv(), ...bare.env }).finally(() => bare.close());
    expect(run.exitCode).toBe(1);
    expect(run.error?.message).toBe(
      `application default credentials: no Google credentials found (no key file, no gcloud ADC file, no metadata server)`,
    );
    expect(run.error?.hint).toMatch(/gcloud auth application-default login/);
  });
});

describe('googleProvider loading', () => {
  it('does not load the cloud SDK until a credential is asked for', async () => {
    const eager = await eagerInputs('core/providers/google.ts');
    expect(eager).toContain('core/providers/google.ts');
    for (const sdk of ['google-auth-library', 'gaxios', 'gcp-metadata'])
      expect(eager.filter((input) => input.includes(`node_modules/${sdk}/`))).toEqual([]);
  });
});
