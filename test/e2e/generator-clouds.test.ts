/**
 * The ECR, Google and Azure generator images against local stand-ins for the clouds: the real SDKs
 * in the container sign and send their requests to a SigV4-checking fake AWS, or through an HTTPS
 * CONNECT proxy to fake Google and Entra/ACR endpoints that check assertions and exchange forms.
 * The file each image writes is then used as it is by skopeo, which reaches the real registry under
 * the cloud registry's own name (a second proxy forwards that name to the local docker-registry).
 * With a mounted cache directory, a second run reuses the token: the fake counts one call.
 */
import { chmod, copyFile, mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeAws, TEST_KEY } from '../fakes/aws.js';
import { fakeAzure } from '../fakes/azure-cloud.js';
import { createServiceAccount, fakeGoogle, type FakeGoogle } from '../fakes/google-cloud.js';
import { startHttpsProxy, type HttpsProxy } from '../fakes/https-proxy.js';
import { imageDockerfile } from './harness/build.js';
import { pushAndPull, runGenerator, skopeoHome, TempDirs, type SkopeoWorld } from './harness/generator.js';
import { openPodman, PODMAN_TOOLS, type Podman } from './harness/podman.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, requireTools, TOOLS } from './harness/tools.js';

const ECR_HOST = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const GOOGLE_HOST = 'europe-west1-docker.pkg.dev';
const ACR_HOST = 'berthtest.azurecr.io';
const ECR_PASSWORD = 'ecr-e2e-password-7Kq2';
const GOOGLE_TOKEN = 'ya29.e2e-google-token-R8mW';
const ACR_REFRESH_TOKEN = 'acr-e2e-refresh-token-P3xZ';
const ACR_USER = '00000000-0000-0000-0000-000000000000';
const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = { clientId: '66666666-7777-8888-9999-000000000000', secret: 'azure-e2e-client-secret' };
const NEEDED = [...PODMAN_TOOLS, TOOLS.registry, TOOLS.htpasswd, TOOLS.skopeo];
const ROOT = resolve('.');

const temp = new TempDirs();
let registry: Registry | undefined;
let podman: Podman | undefined;
let aws: FakeAws | undefined;
let google: FakeGoogle | undefined;
let cloudProxy: HttpsProxy | undefined; // the generators' way to Google and Entra/ACR
let registryProxy: HttpsProxy | undefined; // skopeo's way to the registry under cloud names
let caMount: string; // the cloud proxy's CA, mounted into the containers
const images: Record<string, string> = {};
const serviceAccount = createServiceAccount();

beforeAll(async () => {
  if (missingTools(NEEDED) !== '') return;
  // Behind the TLS-terminating proxy the registry must not send absolute http:// upload URLs.
  vi.stubEnv('REGISTRY_HTTP_RELATIVEURLS', 'true');
  registry = await startRegistry([
    { username: 'AWS', password: ECR_PASSWORD },
    { username: 'oauth2accesstoken', password: GOOGLE_TOKEN },
    { username: ACR_USER, password: ACR_REFRESH_TOKEN },
  ]);
  vi.unstubAllEnvs();
  aws = await FakeAws.start();
  aws.setToken({ username: 'AWS', password: ECR_PASSWORD });
  cloudProxy = await startHttpsProxy({ dir: await temp.make('berth-gen-cloud-proxy-') });
  google = fakeGoogle({ serviceAccounts: [serviceAccount], accessToken: GOOGLE_TOKEN });
  google.install(cloudProxy);
  fakeAzure({ tenantId: TENANT, clients: [CLIENT], registries: [ACR_HOST], refreshToken: ACR_REFRESH_TOKEN }).install(cloudProxy);
  caMount = await temp.make('berth-gen-ca-');
  await copyFile(cloudProxy.ca.certPath, join(caMount, 'ca.pem'));
  await chmod(caMount, 0o755); // a public certificate, read by the image's user
  await chmod(join(caMount, 'ca.pem'), 0o644);
  registryProxy = await startHttpsProxy({ dir: await temp.make('berth-gen-registry-proxy-') });
  const port = Number(registry.host.split(':')[1]);
  for (const host of [ECR_HOST, GOOGLE_HOST, ACR_HOST]) registryProxy.forward(host, port);
  podman = await openPodman(ROOT);
  const base = await podman.baseImage();
  for (const name of ['ecr', 'google', 'azure'] as const) images[name] = await podman.build(imageDockerfile(name), { BASE_IMAGE: base });
}, 600_000);

afterAll(async () => {
  await registry?.stop();
  await aws?.close();
  await cloudProxy?.close();
  await registryProxy?.close();
  await podman?.cleanup();
  await temp.cleanup();
});

/** What a container needs to reach the fake Google and Entra/ACR through the proxy. */
function viaCloudProxy(): { env: Record<string, string>; mounts: Record<string, string> } {
  return {
    env: { HTTPS_PROXY: cloudProxy!.url, NODE_EXTRA_CA_CERTS: '/opt/ca/ca.pem' },
    mounts: { [caMount]: '/opt/ca:ro' },
  };
}

const ecrEnv = (): Record<string, string> => ({
  AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
  AWS_ENDPOINT_URL_ECR: aws!.url,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ACCOUNT_ID: '123456789012',
  AWS_REGION: 'us-east-1',
});

/** skopeo reaching the registry as `host` through the forwarding proxy, trusting its CA. */
async function skopeoWorld(): Promise<SkopeoWorld> {
  const home = await skopeoHome(temp);
  const certDir = join(home, 'certs');
  await mkdir(certDir);
  await copyFile(registryProxy!.ca.certPath, join(certDir, 'ca.crt'));
  return { home, certDir, env: { HTTPS_PROXY: registryProxy!.url } };
}

/** The file as written: 0600, one entry for `host`; skopeo pushes and pulls with it unchanged. */
async function expectWorkingFile(out: string, host: string, username: string, secret: string): Promise<void> {
  const file = join(out, 'dockercfg');
  expect(((await stat(file)).mode & 0o777).toString(8)).toBe('600');
  const config = JSON.parse(await readFile(file, 'utf8'));
  expect(config).toEqual({ auths: { [host]: { auth: Buffer.from(`${username}:${secret}`).toString('base64') } } });
  const world = await skopeoWorld();
  expect(await pushAndPull(world, temp, ['--authfile', file], host, `berth/gen-${host.split('.')[0]}`)).toBe('');
}

describe('ECR generator image', () => {
  it('signs GetAuthorizationToken with the SDK and writes a file skopeo uses as is', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await runGenerator(podman!, temp, images.ecr!, ecrEnv());
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(ECR_PASSWORD);
    expect(result.stderr).not.toContain(TEST_KEY.secretAccessKey);
    await expectWorkingFile(out, ECR_HOST, 'AWS', ECR_PASSWORD);
  });

  it('with a cache directory: a valid token is reused, an expired one costs exactly one call, a corrupt cache is noted', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const cache = await temp.make('berth-gen-cache-');
    await chmod(cache, 0o1777);
    const run = () => runGenerator(podman!, temp, images.ecr!, { ...ecrEnv(), BERTH_CACHE_DIR: '/opt/cache' }, { [cache]: '/opt/cache' });
    const calls = () => aws!.count('GetAuthorizationToken', 'ecr');
    const before = calls();

    aws!.setToken({ lifetimeSeconds: 0 }); // expired as soon as it is issued
    expect((await run()).result.code).toBe(0);
    expect(calls()).toBe(before + 1);
    expect((await run()).result.code).toBe(0);
    expect(calls()).toBe(before + 2);

    aws!.setToken({ lifetimeSeconds: 12 * 3600 });
    expect((await run()).result.code).toBe(0);
    expect(calls()).toBe(before + 3);
    const warm = await run();
    expect(warm.result.code).toBe(0);
    expect(calls()).toBe(before + 3);
    expect(await readdir(cache)).toEqual(expect.arrayContaining(['cache.aes', 'credentials.berth']));
    expect((await readFile(join(cache, 'credentials.berth'))).includes(ECR_PASSWORD)).toBe(false);

    await writeFile(join(cache, 'credentials.berth'), 'not a berth file');
    const corrupt = await run();
    expect(corrupt.result.code).toBe(0);
    expect(corrupt.result.stderr).toMatch(/^berth: warning: cannot open the credential cache .*; starting an empty one$/m);
    expect(calls()).toBe(before + 4);
  });

  it('a failing AWS: exit ≠ 0, the reason in one line, no file', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { result, out } = await runGenerator(podman!, temp, images.ecr!, { ...ecrEnv(), AWS_SECRET_ACCESS_KEY: 'wrong-secret' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(
      new RegExp(
        `^berth: error: no credentials for ${ECR_HOST.replace(/\./g, '\\.')}: ecr: .*(SignatureDoesNotMatch|InvalidSignature|UnrecognizedClient)`,
        'm',
      ),
    );
    expect(await readdir(out)).toEqual([]);
  });
});

describe('Google generator image', () => {
  it('signs a JWT assertion with GOOGLE_AUTH_JSON and writes a file skopeo uses as is', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { env, mounts } = viaCloudProxy();
    const before = google!.calls.token;
    const { result, out } = await runGenerator(
      podman!,
      temp,
      images.google!,
      // One host, so the file holds one entry (the Codeship host list is in docker-generators.test.ts).
      { ...env, GOOGLE_AUTH_JSON: serviceAccount.keyJson, BERTH_REGISTRIES: GOOGLE_HOST },
      mounts,
    );
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(GOOGLE_TOKEN);
    expect(google!.calls.token).toBe(before + 1);
    await expectWorkingFile(out, GOOGLE_HOST, 'oauth2accesstoken', GOOGLE_TOKEN);
  });
});

describe('Azure generator image', () => {
  it('exchanges an Entra token at the registry and writes a file skopeo uses as is', async (ctx) => {
    requireTools(NEEDED, ctx.skip);
    const { env, mounts } = viaCloudProxy();
    const azureEnv = {
      AZURE_TENANT_ID: TENANT,
      AZURE_CLIENT_ID: CLIENT.clientId,
      AZURE_CLIENT_SECRET: CLIENT.secret,
      BERTH_REGISTRIES: ACR_HOST,
    };
    const { result, out } = await runGenerator(podman!, temp, images.azure!, { ...env, ...azureEnv }, mounts);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(ACR_REFRESH_TOKEN);
    await expectWorkingFile(out, ACR_HOST, ACR_USER, ACR_REFRESH_TOKEN);
  });
});
