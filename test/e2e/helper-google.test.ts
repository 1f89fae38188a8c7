// The helper resolving a Google registry on its own, on the selected build, from a gcloud login
// that impersonates a service account (`gcloud auth application-default login
// --impersonate-service-account`): google-auth-library, unmodified, redeems the user's refresh
// token at the fake OAuth endpoint and asks the fake IAM Credentials for the service account's
// token; IAM checks that the caller's token is one it issued and that the caller holds the Token
// Creator role on that account. Everything goes through the test's HTTPS proxy.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUser, fakeGoogle, impersonatedAdc, type FakeGoogle, type GoogleUser } from '../fakes/google-cloud.js';
import { startHttpsProxy, type HttpsProxy } from '../fakes/https-proxy.js';
import { fixtureDir, removeDir } from '../fakes/temp.js';
import { requireBuiltHelper, runHelper, tempHome, type HelperEnv } from './harness/run-berth-helper.js';

const GAR = 'europe-docker.pkg.dev';
const DEPLOYER = 'deployer@berth-project.iam.gserviceaccount.com';
const AUDITOR = 'auditor@berth-project.iam.gserviceaccount.com';

let dir: string;
let proxy: HttpsProxy;
let google: FakeGoogle;
let user: GoogleUser;
const homes: { remove(): Promise<void> }[] = [];

beforeAll(async () => {
  requireBuiltHelper();
  dir = await fixtureDir('berth-helper-google-');
  proxy = await startHttpsProxy({ dir });
  user = createUser();
  google = fakeGoogle({ users: [user], tokenCreators: { [user.email]: [DEPLOYER] }, expiresIn: 1800 });
  google.install(proxy);
});

afterAll(async () => {
  for (const home of homes.splice(0)) await home.remove();
  await proxy?.close();
  if (dir) await removeDir(dir);
});

/** A fresh home whose gcloud ADC file impersonates `target`, and the proxy. */
async function loggedIn(target: string): Promise<HelperEnv> {
  const home = await tempHome();
  homes.push(home);
  const gcloud = join(home.dir, '.config', 'gcloud');
  mkdirSync(gcloud, { recursive: true });
  writeFileSync(join(gcloud, 'application_default_credentials.json'), JSON.stringify(impersonatedAdc(user, target)), { mode: 0o600 });
  return { ...home.env, HOME: home.dir, ...proxy.env };
}

describe('docker-credential-berth get, Google registry, gcloud login impersonating a service account', () => {
  it("answers with the service account's token, then from the disk cache", async () => {
    const env = await loggedIn(DEPLOYER);
    const before = { token: google.calls.token, iam: google.calls.generateAccessToken };
    const first = await runHelper('get', { env, input: GAR });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // the user's own token only signed the IAM call: the registry gets the one IAM minted last
    expect(JSON.parse(first.stdout)).toEqual({ ServerURL: GAR, Username: 'oauth2accesstoken', Secret: google.issued.at(-1) });
    expect(google.calls.generateAccessToken).toBe(before.iam + 1);
    expect(google.calls.token).toBe(before.token + 1);

    const second = await runHelper('get', { env, input: GAR });
    expect(second.code).toBe(0);
    expect(second.stdout).toBe(first.stdout);
    expect(google.calls.generateAccessToken).toBe(before.iam + 1);
  });

  it('names the missing role when the login may not act as the service account, and prints no secret', async () => {
    const env = await loggedIn(AUDITOR);
    const result = await runHelper('get', { env, input: GAR });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('credentials not found in native keychain\n');
    expect(result.stderr).toContain("PERMISSION_DENIED: Permission 'iam.serviceAccounts.getAccessToken' denied");
    expect(result.stderr).toContain('roles/iam.serviceAccountTokenCreator');
    for (const secret of [user.refreshToken, user.clientSecret, ...google.issued])
      expect(result.stdout + result.stderr).not.toContain(secret);
  });
});
