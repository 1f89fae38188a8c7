// `berth kubelet-credential-provider` as the kubelet runs it: the built CLI in a child process, one
// CredentialProviderRequest on stdin. Responses are checked against the published API types
// (credentialprovider.kubelet.k8s.io/v1 and v1beta1: field names and types, required fields, Go
// duration syntax, the apiVersion echo, an auth key the kubelet matches against the image as it
// matches `matchImages`) for every provider, each against its local cloud fake: ECR and ECR Public
// (SigV4-checking fake AWS), Google (token endpoint and STS behind the HTTPS proxy), Azure (Entra
// and the ACR exchange behind it), static and stored logins. Service-account-token mode: the token
// in the request is what the fake STS, Google STS and Entra check.
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeAws, TEST_KEY } from '../fakes/aws.js';
import { ENTRA_HOST, fakeAzure, type FakeAzure } from '../fakes/azure-cloud.js';
import { createServiceAccount, fakeGoogle, type FakeGoogle } from '../fakes/google-cloud.js';
import { startHttpsProxy, type HttpsProxy } from '../fakes/https-proxy.js';
import { signJwt } from '../fakes/jwt.js';
import { generateRsaKeyPair } from '../fakes/test-ca.js';
import { startDaemonProcess, tempHome } from './harness/daemon.js';
import { fixtureDir, removeDir } from '../fakes/temp.js';
import { argvFor, berthCommand } from './harness/build.js';

const V1 = 'credentialprovider.kubelet.k8s.io/v1';
const V1BETA1 = 'credentialprovider.kubelet.k8s.io/v1beta1';
const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const GAR = 'europe-west1-docker.pkg.dev';
const ACR = 'berthtest.azurecr.io';
const ROLE = 'arn:aws:iam::123456789012:role/pull-from-ecr';
const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT = { clientId: '11111111-2222-3333-4444-555555555555', secret: 'azure-kubelet-secret' };
const WORKLOAD_CLIENT = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const ISSUER = 'https://oidc.cluster.test/';
const SUBJECT = 'system:serviceaccount:apps:puller';
const WIF_AUDIENCE = '//iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/k8s/providers/cluster';
const GOOGLE_TOKEN = 'ya29.kubelet-google-token';
/** Google service accounts the workload may act as, and one it may not. */
const GOOGLE_DEPLOYER = 'deployer@berth-project.iam.gserviceaccount.com';
const GOOGLE_AUDITOR = 'auditor@berth-project.iam.gserviceaccount.com';

let dir: string;
let aws: FakeAws;
let proxy: HttpsProxy;
let google: FakeGoogle;
let azure: FakeAzure;
let keyFile: string;
const issuerKeys = generateRsaKeyPair();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  dir = await fixtureDir('berth-kubelet-');
  aws = await FakeAws.start();
  aws.addRole(ROLE);
  proxy = await startHttpsProxy({ dir });
  const account = createServiceAccount();
  keyFile = join(dir, 'key.json');
  await writeFile(keyFile, account.keyJson, { mode: 0o600 });
  google = fakeGoogle({
    serviceAccounts: [account],
    workloadPools: [{ audience: WIF_AUDIENCE, issuer: ISSUER, publicKeyPem: issuerKeys.publicKeyPem }],
    // STS names a federated workload by its subject
    tokenCreators: { [`workload:${SUBJECT}`]: [GOOGLE_DEPLOYER] },
    accessToken: GOOGLE_TOKEN,
  });
  google.install(proxy);
  azure = fakeAzure({
    tenantId: TENANT,
    clients: [
      CLIENT,
      { clientId: WORKLOAD_CLIENT, federated: { issuer: ISSUER, subject: SUBJECT, publicKeyPem: issuerKeys.publicKeyPem } },
    ],
    registries: [ACR],
    entraHosts: [ENTRA_HOST],
  });
  azure.install(proxy);
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await aws?.close();
  await proxy?.close();
  if (dir) await removeDir(dir);
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], env: NodeJS.ProcessEnv, stdin = ''): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(...argvFor('berth', args), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

async function home(extra: Record<string, string> = {}): Promise<NodeJS.ProcessEnv> {
  const made = await tempHome();
  cleanups.push(made.cleanup);
  return { ...made.env, AWS_EC2_METADATA_DISABLED: 'true', ...extra };
}

const awsEnv = () => ({ ...aws.env, AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey });

function request(image: string, apiVersion = V1, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ apiVersion, kind: 'CredentialProviderRequest', image, ...extra });
}

/** Go's time.ParseDuration, for the units a cache duration uses; NaN when the text is not one. */
function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1e3, m: 6e4, h: 3.6e6 };
  const parts = [...text.matchAll(/(\d+(?:\.\d*)?)(ns|us|µs|ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) return Number.NaN;
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * (units[unit as string] ?? Number.NaN), 0);
}

/**
 * The kubelet's matchImages rule: same number of host labels, `*` (or a glob) per label, the port
 * exactly, the key's path a prefix of the image's.
 */
function keyMatchesImage(key: string, image: string): boolean {
  const split = (text: string) => {
    const [hostPort = '', ...path] = text.replace(/^https?:\/\//, '').split('/');
    const [host = '', port = ''] = hostPort.split(':');
    return { labels: host.split('.'), port, path: path.join('/') };
  };
  const k = split(key);
  const i = split(image.includes('/') && /[.:]|^localhost\//.test(image.split('/')[0] ?? '') ? image : `docker.io/${image}`);
  if (k.labels.length !== i.labels.length || k.port !== i.port) return false;
  const glob = (pattern: string) => new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^.]*')}$`);
  return k.labels.every((label, n) => glob(label).test(i.labels[n] ?? '')) && i.path.startsWith(k.path);
}

/** A response as the kubelet decodes it (v1 and v1beta1 have the same fields). */
function expectConformant(
  result: Run,
  image: string,
  apiVersion: string,
  cacheKeyType: 'Registry' | 'Image' = 'Registry',
): Record<string, { username: string; password: string }> {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  expect(result.stdout.endsWith('\n')).toBe(true);
  const response = JSON.parse(result.stdout) as Record<string, unknown>;
  for (const field of Object.keys(response)) expect(['kind', 'apiVersion', 'cacheKeyType', 'cacheDuration', 'auth']).toContain(field);
  expect(response.kind).toBe('CredentialProviderResponse');
  expect(response.apiVersion).toBe(apiVersion);
  expect(['Image', 'Registry', 'Global']).toContain(response.cacheKeyType);
  expect(response.cacheKeyType).toBe(cacheKeyType);
  if (response.cacheDuration !== undefined) {
    expect(typeof response.cacheDuration).toBe('string');
    expect(parseGoDuration(response.cacheDuration as string)).not.toBeNaN();
  }
  const auth = response.auth as Record<string, { username: string; password: string }>;
  expect(typeof auth).toBe('object');
  for (const [key, value] of Object.entries(auth)) {
    expect(keyMatchesImage(key, image)).toBe(true);
    expect(Object.keys(value).sort()).toEqual(['password', 'username']);
    expect(typeof value.username).toBe('string');
    expect(typeof value.password).toBe('string');
  }
  return auth;
}

function cacheDurationMs(result: Run): number {
  return parseGoDuration((JSON.parse(result.stdout) as { cacheDuration: string }).cacheDuration);
}

describe('kubelet-credential-provider: every provider', () => {
  it.each([V1, V1BETA1])('ECR (%s): GetAuthorizationToken through the fake AWS; 12 h token cached 11h30m', async (apiVersion) => {
    aws.setToken({ username: 'AWS', password: 'ecr-kubelet-password', lifetimeSeconds: 12 * 3600 });
    const image = `${ECR}/team/app:1.2`;
    const result = await run(['kubelet-credential-provider'], await home(awsEnv()), request(image, apiVersion));
    const auth = expectConformant(result, image, apiVersion);
    expect(auth).toEqual({ [ECR]: { username: 'AWS', password: 'ecr-kubelet-password' } });
    // the token's 12 h, less the 30-minute margin; a second or two pass while the command runs
    expect(JSON.parse(result.stdout).cacheDuration).toMatch(/^11h(29m5\ds|30m0s)$/);
  });

  it('ECR Public: the us-east-1 API, keyed public.ecr.aws', async () => {
    aws.setToken({ username: 'AWS', password: 'ecr-public-password', lifetimeSeconds: 12 * 3600 });
    const image = 'public.ecr.aws/berth/tool:latest';
    const result = await run(['kubelet-credential-provider'], await home(awsEnv()), request(image));
    expect(expectConformant(result, image, V1)).toEqual({ 'public.ecr.aws': { username: 'AWS', password: 'ecr-public-password' } });
    expect(aws.requests.at(-1)).toMatchObject({ service: 'ecr-public', signingRegion: 'us-east-1', outcome: 'ok' });
  });

  it('Google: a service-account key signs the assertion the fake token endpoint verifies', async () => {
    const image = `${GAR}/proj/repo/app@sha256:${'a'.repeat(64)}`;
    const env = await home({ ...proxy.env, GOOGLE_APPLICATION_CREDENTIALS: keyFile });
    const result = await run(['kubelet-credential-provider'], env, request(image, V1BETA1));
    expect(expectConformant(result, image, V1BETA1)).toEqual({ [GAR]: { username: 'oauth2accesstoken', password: GOOGLE_TOKEN } });
    // 3599 s less a quarter
    expect(cacheDurationMs(result)).toBeGreaterThan(44 * 60_000);
    expect(cacheDurationMs(result)).toBeLessThanOrEqual(45 * 60_000);
  });

  it('Azure: client secret at the fake Entra, then the ACR exchange', async () => {
    const image = `${ACR}/app:2`;
    const env = await home({ ...proxy.env, AZURE_TENANT_ID: TENANT, AZURE_CLIENT_ID: CLIENT.clientId, AZURE_CLIENT_SECRET: CLIENT.secret });
    const result = await run(['kubelet-credential-provider'], env, request(image));
    const auth = expectConformant(result, image, V1);
    expect(auth[ACR]).toEqual({ username: '00000000-0000-0000-0000-000000000000', password: azure.issued.at(-1) });
    expect(azure.lastExchange?.get('service')).toBe(ACR);
  });

  it('static: a configured registry, with no expiry (the config default cache duration applies)', async () => {
    const env = await home({ GHCR_USER: 'octocat', GHCR_TOKEN: 'ghp_kubelet' });
    const added = await run(
      [
        'registries',
        'add',
        'gh',
        '--provider',
        'static',
        '--host',
        'ghcr.io',
        '-o',
        'usernameEnv=GHCR_USER',
        '-o',
        'passwordEnv=GHCR_TOKEN',
      ],
      env,
    );
    expect(added.code).toBe(0);
    const image = 'ghcr.io/octocat/app:v1';
    const result = await run(['kubelet-credential-provider'], env, request(image));
    expect(expectConformant(result, image, V1)).toEqual({ 'ghcr.io': { username: 'octocat', password: 'ghp_kubelet' } });
    expect(JSON.parse(result.stdout).cacheDuration).toBeUndefined();
  });

  it('registries that split a host by repository prefix: each image gets its own, keyed and cached by that prefix', async () => {
    const env = await home({ A_USER: 'alice', A_TOKEN: 'a-token', B_USER: 'bob', B_TOKEN: 'b-token' });
    for (const [name, user, token] of [
      ['team-a', 'A_USER', 'A_TOKEN'],
      ['team-b', 'B_USER', 'B_TOKEN'],
    ] as const) {
      const added = await run(
        ['registries', 'add', name, '--provider', 'static', '--host', 'quay.example.com', '--prefix', name].concat([
          '-o',
          `usernameEnv=${user}`,
          '-o',
          `passwordEnv=${token}`,
        ]),
        env,
      );
      expect(added.code, added.stderr).toBe(0);
    }
    const cases = [
      ['quay.example.com/team-a/app:1', 'quay.example.com/team-a', 'alice', 'a-token'],
      ['quay.example.com/team-b/app:1', 'quay.example.com/team-b', 'bob', 'b-token'],
      ['quay.example.com/team-b/tools/lint@sha256:0123', 'quay.example.com/team-b', 'bob', 'b-token'],
    ] as const;
    for (const [image, key, username, password] of cases) {
      const result = await run(['kubelet-credential-provider'], env, request(image));
      // cached per host, one team's answer would stand in for the other's images
      expect(expectConformant(result, image, V1, 'Image'), image).toEqual({ [key]: { username, password } });
    }
  });

  it('a stored login (berth login), Docker Hub images with and without a host', async () => {
    const env = await home();
    const login = await run(['login', 'docker.io', '-u', 'hubuser', '--password-stdin'], env, 'dckr_pat_kubelet');
    expect(login.code).toBe(0);
    for (const image of ['nginx:1.27', 'docker.io/library/nginx:1.27']) {
      const result = await run(['kubelet-credential-provider'], env, request(image));
      expect(expectConformant(result, image, V1)).toEqual({ 'docker.io': { username: 'hubuser', password: 'dckr_pat_kubelet' } });
    }
  });

  it('the running daemon answers first: the plugin has no AWS setting, the cloud is asked once', async () => {
    aws.setToken({ username: 'AWS', password: 'ecr-daemon-password', lifetimeSeconds: 12 * 3600 });
    const made = await tempHome();
    cleanups.push(made.cleanup);
    const slow = { BERTH_DAEMON_CONNECT_TIMEOUT_MS: '10000', BERTH_DAEMON_TIMEOUT_MS: '30000' };
    const daemonEnv = { ...made.env, ...slow, ...awsEnv(), AWS_EC2_METADATA_DISABLED: 'true' };
    const daemon = await startDaemonProcess(
      berthCommand('berth'),
      ['daemon', 'start'],
      daemonEnv,
      join(made.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock'),
    );
    cleanups.push(async () => void (await daemon.stop()));
    const before = aws.count('GetAuthorizationToken');
    const image = `${ECR}/team/app:1`;
    for (const apiVersion of [V1, V1BETA1]) {
      const result = await run(
        ['kubelet-credential-provider'],
        { ...made.env, ...slow, AWS_EC2_METADATA_DISABLED: 'true' },
        request(image, apiVersion),
      );
      expect(expectConformant(result, image, apiVersion)).toEqual({ [ECR]: { username: 'AWS', password: 'ecr-daemon-password' } });
      expect(JSON.parse(result.stdout).cacheDuration).toMatch(/^11h(29m5\ds|30m0s)$/);
    }
    expect(aws.count('GetAuthorizationToken')).toBe(before + 1);
  }, 90_000);

  it('a registry berth knows nothing of: empty auth, not cached', async () => {
    const image = 'registry.example.com:5000/app:1';
    const result = await run(['kubelet-credential-provider'], await home(), request(image));
    expect(expectConformant(result, image, V1)).toEqual({});
    expect(JSON.parse(result.stdout).cacheDuration).toBe('0s');
  });
});

describe('kubelet-credential-provider: refusals', () => {
  it.each([
    ['an unknown apiVersion', request(`${ECR}/app`, 'credentialprovider.kubelet.k8s.io/v1alpha1'), /unsupported apiVersion/],
    ['no apiVersion', JSON.stringify({ kind: 'CredentialProviderRequest', image: 'a/b' }), /unsupported apiVersion null/],
    [
      'another kind',
      JSON.stringify({ apiVersion: V1, kind: 'CredentialProviderResponse', image: 'a/b' }),
      /kind is "CredentialProviderResponse"/,
    ],
    ['no image', JSON.stringify({ apiVersion: V1, kind: 'CredentialProviderRequest' }), /no "image"/],
    ['an image that is not a string', JSON.stringify({ apiVersion: V1, kind: 'CredentialProviderRequest', image: 7 }), /no "image"/],
    [
      'annotations that are not strings',
      request('a.io/b', V1, { serviceAccountToken: 't', serviceAccountAnnotations: { a: 1 } }),
      /not a map of strings/,
    ],
    ['malformed JSON', '{"apiVersion":', /not a JSON CredentialProviderRequest/],
    ['a JSON array', '[]', /not a JSON object/],
    ['nothing at all', '', /not a JSON CredentialProviderRequest/],
  ])('%s: one line on stderr, nothing on stdout, exit 1', async (_name, stdin, message) => {
    const result = await run(['kubelet-credential-provider'], await home(), stdin);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.split('\n')).toHaveLength(2); // one line and its newline
    expect(result.stderr).toMatch(/^berth: error: /);
    expect(result.stderr).toMatch(message);
  });

  it('a provider failure: one line naming the registry, nothing on stdout', async () => {
    const env = await home({ ...aws.env, AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000', AWS_SECRET_ACCESS_KEY: 'nope' });
    const result = await run(['kubelet-credential-provider'], env, request(`${ECR}/app:1`));
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    // One error line, then its hint when there is one.
    expect(result.stderr).toMatch(/^berth: error: [^\n]+\n(berth: hint: [^\n]+\n)?$/);
    expect(result.stderr).toContain(ECR);
  });
});

function serviceAccountJwt(audience: string | string[], lifetimeSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  return signJwt({ iss: ISSUER, sub: SUBJECT, aud: audience, iat: now, exp: now + lifetimeSeconds }, issuerKeys.privateKeyPem);
}

describe('kubelet-credential-provider: service account tokens', () => {
  it('ECR: AssumeRoleWithWebIdentity with the pod token and the role from the annotation; no machine credentials used', async () => {
    aws.setToken({ username: 'AWS', password: 'ecr-irsa-password', lifetimeSeconds: 12 * 3600 });
    const before = aws.requests.length;
    const token = aws.webIdentityToken({ sub: SUBJECT });
    const image = `${ECR}/team/app:1`;
    const body = request(image, V1, { serviceAccountToken: token, serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': ROLE } });
    const result = await run(['kubelet-credential-provider'], await home(aws.env), body);
    expect(expectConformant(result, image, V1)).toEqual({ [ECR]: { username: 'AWS', password: 'ecr-irsa-password' } });
    const seen = aws.requests.slice(before);
    expect(seen.map((r) => `${r.action}:${r.outcome}`)).toEqual(['AssumeRoleWithWebIdentity:ok', 'GetAuthorizationToken:ok']);
    expect(seen[0]?.principal).toBe(ROLE);
    expect(seen[1]?.principal).toMatch(/^arn:aws:sts::123456789012:assumed-role\/pull-from-ecr\//);
  });

  it("ECR: the registry's roleArn option when the service account has no annotation", async () => {
    const env = await home(aws.env);
    await run(['registries', 'add', 'prod', '--provider', 'ecr', '--host', ECR, '-o', `roleArn=${ROLE}`], env);
    const before = aws.requests.length;
    const body = request(`${ECR}/app:1`, V1, { serviceAccountToken: aws.webIdentityToken(), serviceAccountAnnotations: {} });
    const result = await run(['kubelet-credential-provider'], env, body);
    expect(result.code).toBe(0);
    expect(aws.requests.slice(before).map((r) => r.action)).toEqual(['AssumeRoleWithWebIdentity', 'GetAuthorizationToken']);
  });

  it('ECR: a token the identity provider did not sign is refused by STS, and nothing reaches stdout', async () => {
    const forged = serviceAccountJwt('sts.amazonaws.com'); // signed by another key
    const body = request(`${ECR}/app:1`, V1, {
      serviceAccountToken: forged,
      serviceAccountAnnotations: { 'eks.amazonaws.com/role-arn': ROLE },
    });
    const before = aws.requests.length;
    const result = await run(['kubelet-credential-provider'], await home(awsEnv()), body);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/InvalidIdentityToken/);
    // One error line, then its hint when there is one.
    expect(result.stderr).toMatch(/^berth: error: [^\n]+\n(berth: hint: [^\n]+\n)?$/);
    expect(aws.requests.slice(before).map((r) => `${r.action}:${r.outcome}`)).toEqual(['AssumeRoleWithWebIdentity:InvalidIdentityToken']);
  });

  it('ECR: no role anywhere is one line saying where to name it', async () => {
    const body = request(`${ECR}/app:1`, V1, { serviceAccountToken: aws.webIdentityToken() });
    const result = await run(['kubelet-credential-provider'], await home(aws.env), body);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/no role to assume/);
  });

  it('Google: workload identity federation, the pod token exchanged at STS for the pool provider', async () => {
    const stsBefore = google.calls.sts;
    const image = `${GAR}/proj/repo/app:1`;
    const body = request(image, V1, {
      serviceAccountToken: serviceAccountJwt(`https:${WIF_AUDIENCE}`),
      serviceAccountAnnotations: { 'berth.dev/google-workload-identity-provider': WIF_AUDIENCE },
    });
    const result = await run(['kubelet-credential-provider'], await home(proxy.env), body);
    expect(expectConformant(result, image, V1)).toEqual({ [GAR]: { username: 'oauth2accesstoken', password: GOOGLE_TOKEN } });
    expect(google.calls.sts).toBe(stsBefore + 1);
  });

  it("Google: GKE's gcp-service-account annotation, the federated token impersonating that account at IAM Credentials", async () => {
    const before = { sts: google.calls.sts, iam: google.calls.generateAccessToken };
    const image = `${GAR}/proj/repo/app:2`;
    const body = request(image, V1, {
      serviceAccountToken: serviceAccountJwt(`https:${WIF_AUDIENCE}`),
      serviceAccountAnnotations: {
        'berth.dev/google-workload-identity-provider': WIF_AUDIENCE,
        'iam.gke.io/gcp-service-account': GOOGLE_DEPLOYER,
      },
    });
    const result = await run(['kubelet-credential-provider'], await home(proxy.env), body);
    expect(expectConformant(result, image, V1)).toEqual({ [GAR]: { username: 'oauth2accesstoken', password: GOOGLE_TOKEN } });
    expect(google.calls.sts).toBe(before.sts + 1);
    expect(google.calls.generateAccessToken).toBe(before.iam + 1);
  });

  it('Google: a service account the workload may not act as is refused by IAM Credentials, in one line with the role to grant', async () => {
    const body = request(`${GAR}/p/r/app:1`, V1, {
      serviceAccountToken: serviceAccountJwt(`https:${WIF_AUDIENCE}`),
      serviceAccountAnnotations: {
        'berth.dev/google-workload-identity-provider': WIF_AUDIENCE,
        'iam.gke.io/gcp-service-account': GOOGLE_AUDITOR,
      },
    });
    const result = await run(['kubelet-credential-provider'], await home(proxy.env), body);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^berth: error: [^\n]+\n(berth: hint: [^\n]+\n)?$/);
    expect(result.stderr).toContain('PERMISSION_DENIED');
    expect(result.stderr).toContain('roles/iam.serviceAccountTokenCreator');
  });

  it('Google: a token for another audience is refused by STS', async () => {
    const body = request(`${GAR}/p/r/app:1`, V1, {
      serviceAccountToken: serviceAccountJwt('https://elsewhere'),
      serviceAccountAnnotations: { 'berth.dev/google-workload-identity-provider': WIF_AUDIENCE },
    });
    const result = await run(['kubelet-credential-provider'], await home(proxy.env), body);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/invalid_grant/);
  });

  it('Azure: the pod token as a federated client assertion for the annotated app', async () => {
    const image = `${ACR}/app:3`;
    const body = request(image, V1, {
      serviceAccountToken: serviceAccountJwt(['api://AzureADTokenExchange']),
      serviceAccountAnnotations: { 'azure.workload.identity/client-id': WORKLOAD_CLIENT, 'azure.workload.identity/tenant-id': TENANT },
    });
    const result = await run(['kubelet-credential-provider'], await home(proxy.env), body);
    const auth = expectConformant(result, image, V1);
    expect(auth[ACR]?.password).toBe(azure.issued.at(-1));
  });

  it('a static registry ignores the token and answers as usual', async () => {
    const env = await home({ QUAY_USER: 'org+robot', QUAY_TOKEN: 'quay-token' });
    await run(
      [
        'registries',
        'add',
        'quay',
        '--provider',
        'static',
        '--host',
        'quay.io',
        '-o',
        'usernameEnv=QUAY_USER',
        '-o',
        'passwordEnv=QUAY_TOKEN',
      ],
      env,
    );
    const result = await run(['kubelet-credential-provider'], env, request('quay.io/org/app:1', V1, { serviceAccountToken: 'opaque' }));
    expect(expectConformant(result, 'quay.io/org/app:1', V1)).toEqual({ 'quay.io': { username: 'org+robot', password: 'quay-token' } });
  });
});
