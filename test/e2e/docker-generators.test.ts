/**
 * Every generator image built by the real Docker engine (`DOCKER_BUILDKIT=0 docker build` from
 * Dockerfiles/ with a locally made base image) and run as a Codeship pipeline would:
 * `docker run --rm --network host -v OUT:/opt/data IMAGE /opt/data/dockercfg`, with exactly the
 * variables of the Codeship README the image replaces, against the local cloud fakes. The file it
 * writes is then used by `docker --config` to pull from the htpasswd registry, which dockerd reaches
 * under the cloud registry's own name through a TLS-terminating proxy. A missing variable: exit ≠ 0,
 * one line, no file.
 */
import { chmod, copyFile, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeAws, TEST_KEY } from '../fakes/aws.js';
import { fakeAzure } from '../fakes/azure-cloud.js';
import { createServiceAccount, fakeGoogle } from '../fakes/google-cloud.js';
import { startHttpsProxy, type HttpsProxy } from '../fakes/https-proxy.js';
import { type DockerEngine, DOCKER_TOOLS, startDockerd } from './harness/docker.js';
import { runGenerator, TempDirs, type GeneratorRun } from './harness/generator.js';
import type { Result } from './harness/podman.js';
import { startRegistry, type Registry } from './harness/registry.js';
import { missingTools, TOOLS } from './harness/tools.js';

const ROOT = resolve(import.meta.dirname, '../..');
const NEEDED = [...DOCKER_TOOLS, TOOLS.registry, TOOLS.htpasswd];
const OWN_ACCOUNT = '123456789012'; // the account of the fake's test key
const ROLE_ACCOUNT = '210987654321';
const REGION = 'us-east-1';
const ecrHost = (account: string) => `${account}.dkr.ecr.${REGION}.amazonaws.com`;
const GOOGLE_LOCATION = 'europe-west1';
const ACR_HOST = 'berthgen.azurecr.io';
const ECR_PASSWORD = 'ecr-docker-e2e-password-Qz81';
const GOOGLE_TOKEN = 'ya29.docker-e2e-google-token-Lp4';
const ACR_USER = '00000000-0000-0000-0000-000000000000';
const ACR_REFRESH_TOKEN = 'acr-docker-e2e-refresh-token-N6';
const STATIC = { username: 'ci-bot', password: 'static-docker-e2e-password-W3' };
const TENANT = '11111111-2222-3333-4444-555555555555';
const CLIENT = { clientId: '66666666-7777-8888-9999-000000000000', secret: 'azure-docker-e2e-secret' };
const CLOUD_HOSTS = [
  ecrHost(OWN_ACCOUNT),
  ecrHost(ROLE_ACCOUNT),
  'public.ecr.aws',
  `${GOOGLE_LOCATION}-docker.pkg.dev`,
  'gcr.io',
  ACR_HOST,
];
const REPOSITORY = 'team/app:v1';

const missing = missingTools(NEEDED);
const temp = new TempDirs();
const serviceAccount = createServiceAccount('codeship-ci@berth-project.iam.gserviceaccount.com');
let engine: DockerEngine | undefined;
let registry: Registry | undefined;
let aws: FakeAws | undefined;
let cloudProxy: HttpsProxy | undefined; // the generators' way to Google and Entra/ACR
let registryProxy: HttpsProxy | undefined; // dockerd's way to the registry under cloud names
let caMount = '';
const images: Record<string, string> = {};

beforeAll(async () => {
  if (missing !== '') {
    if (process.env.CI) throw new Error(`required for this test: ${missing}`);
    return;
  }
  vi.stubEnv('REGISTRY_HTTP_RELATIVEURLS', 'true'); // behind the TLS-terminating proxy
  registry = await startRegistry([
    { username: 'AWS', password: ECR_PASSWORD },
    { username: 'oauth2accesstoken', password: GOOGLE_TOKEN },
    { username: ACR_USER, password: ACR_REFRESH_TOKEN },
    STATIC,
  ]);
  vi.unstubAllEnvs();
  aws = await FakeAws.start();
  aws.setToken({ username: 'AWS', password: ECR_PASSWORD });
  aws.addRole(`arn:aws:iam::${ROLE_ACCOUNT}:role/ci-pull`);
  cloudProxy = await startHttpsProxy({ dir: await temp.make('berth-dgen-cloud-proxy-') });
  fakeGoogle({ serviceAccounts: [serviceAccount], accessToken: GOOGLE_TOKEN }).install(cloudProxy);
  fakeAzure({ tenantId: TENANT, clients: [CLIENT], registries: [ACR_HOST], refreshToken: ACR_REFRESH_TOKEN }).install(cloudProxy);
  caMount = await temp.make('berth-dgen-ca-');
  await copyFile(cloudProxy.ca.certPath, join(caMount, 'ca.pem'));
  await chmod(caMount, 0o755);
  await chmod(join(caMount, 'ca.pem'), 0o644);
  registryProxy = await startHttpsProxy({ dir: await temp.make('berth-dgen-registry-proxy-') });
  const port = Number(registry.host.split(':')[1]);
  for (const host of CLOUD_HOSTS) registryProxy.forward(host, port);
  // dockerd pulls cloud names through the proxy (its certificate is the test CA's: insecure here).
  engine = await startDockerd(ROOT, { insecureRegistries: CLOUD_HOSTS, env: { HTTPS_PROXY: registryProxy.url } });
  const base = await engine.baseImage();
  // In parallel: 17 s here against 26 s one after the other.
  await Promise.all(
    ['ecr', 'google', 'static', 'azure', 'all'].map(async (name) => {
      images[name] = await engine!.build(`Dockerfiles/${name}.Dockerfile`, { BASE_IMAGE: base });
    }),
  );
  // One image in the registry; every cloud name reaches the same storage.
  const pushConfig = await temp.make('berth-dgen-push-');
  const auth = Buffer.from(`${STATIC.username}:${STATIC.password}`).toString('base64');
  await writeFile(join(pushConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth } } }));
  const pushed = `${registry.host}/${REPOSITORY}`;
  await mustWork(engine.exec(['tag', base, pushed]));
  await mustWork(engine.exec(['--config', pushConfig, 'push', pushed]));
  await mustWork(engine.exec(['rmi', pushed]));
}, 600_000);

afterAll(async () => {
  const stopped = await Promise.allSettled([engine?.stop(), registry?.stop(), aws?.close(), cloudProxy?.close(), registryProxy?.close()]);
  await temp.cleanup();
  for (const result of stopped) if (result.status === 'rejected') throw result.reason;
}, 120_000);

async function mustWork(run: Promise<Result>): Promise<Result> {
  const result = await run;
  if (result.code !== 0) throw new Error(`docker failed (${result.code}): ${result.stderr}`);
  return result;
}

/** The Codeship way: `docker run --rm --network host -v OUT:/opt/data … IMAGE /opt/data/dockercfg`. */
function generate(image: string, env: Record<string, string>, viaCloudProxy = false): Promise<GeneratorRun> {
  if (!viaCloudProxy) return runGenerator(engine!, temp, image, env);
  const proxied = { ...env, HTTPS_PROXY: cloudProxy!.url, NODE_EXTRA_CA_CERTS: '/opt/ca/ca.pem' };
  return runGenerator(engine!, temp, image, proxied, { [caMount]: '/opt/ca:ro' });
}

/** The written file as `docker --config DIR` reads it; pulls `host/team/app:v1` with it. */
async function pullWith(out: string, host: string): Promise<Result> {
  const configDir = await temp.make('berth-dgen-config-');
  await copyFile(join(out, 'dockercfg'), join(configDir, 'config.json'));
  const image = `${host}/${REPOSITORY}`;
  const pulled = await engine!.exec(['--config', configDir, 'pull', image], { env: { HOME: configDir } });
  if (pulled.code === 0) await engine!.exec(['rmi', image]);
  return pulled;
}

async function writtenHosts(out: string): Promise<string[]> {
  return Object.keys(JSON.parse(await readFile(join(out, 'dockercfg'), 'utf8')).auths).sort();
}

function expectRefused(run: GeneratorRun, variable: string): Promise<void> {
  expect(run.result.code).not.toBe(0);
  expect(run.result.stdout).toBe('');
  expect(run.result.stderr).toMatch(new RegExp(`^berth-generate: error: ${variable} is not set: [^\\n]+\\n$`));
  return readdir(run.out).then((names) => expect(names).toEqual([]));
}

const AWS_BASE = {
  AWS_REGION: REGION,
  AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
  AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
};
// Where the fakes listen: not a pipeline's variable, the machine's stand-in for AWS.
const awsEndpoints = () => ({ ...aws!.env, AWS_EC2_METADATA_DISABLED: 'true' });

describe.skipIf(missing !== '' && !process.env.CI)('generator images under the real Docker engine', { timeout: 300_000 }, () => {
  describe('ECR image, codeship/aws-ecr-dockercfg-generator variables', () => {
    it.each([
      ['AWS_REGION + keys: the caller own registry, from proxyEndpoint', {}, [ecrHost(OWN_ACCOUNT)], ecrHost(OWN_ACCOUNT)],
      [
        'AWS_STS_ROLE + AWS_STS_ACCOUNT: the role is assumed, its account registry',
        { AWS_STS_ROLE: 'ci-pull', AWS_STS_ACCOUNT: ROLE_ACCOUNT },
        [ecrHost(ROLE_ACCOUNT)],
        ecrHost(ROLE_ACCOUNT),
      ],
      [
        'AWS_ECR_REGISTRY_IDS: one entry per account',
        { AWS_ECR_REGISTRY_IDS: `${OWN_ACCOUNT} ${ROLE_ACCOUNT}` },
        [ecrHost(ROLE_ACCOUNT), ecrHost(OWN_ACCOUNT)],
        ecrHost(ROLE_ACCOUNT),
      ],
      ['ECR_PUBLIC: public.ecr.aws', { ECR_PUBLIC: 'true' }, ['public.ecr.aws'], 'public.ecr.aws'],
    ])('%s; docker --config pulls with the file', async (_name, extra, hosts, pullFrom) => {
      const run = await generate(images.ecr!, { ...AWS_BASE, ...extra, ...awsEndpoints() });
      expect(run.result.code, run.result.stderr).toBe(0);
      expect(run.result.stderr).not.toContain(ECR_PASSWORD);
      expect(await writtenHosts(run.out)).toEqual([...hosts].sort());
      const pulled = await pullWith(run.out, pullFrom);
      expect(pulled.code, pulled.stderr).toBe(0);
    });

    it.each([
      ['AWS_REGION', { ...AWS_BASE, AWS_REGION: '' }],
      ['AWS_SECRET_ACCESS_KEY', { ...AWS_BASE, AWS_SECRET_ACCESS_KEY: '' }],
      ['AWS_STS_ACCOUNT', { ...AWS_BASE, AWS_STS_ROLE: 'ci-pull' }],
    ])('without %s: exit ≠ 0, one line naming it, no file', async (variable, env) => {
      await expectRefused(await generate(images.ecr!, { ...env, ...awsEndpoints() }), variable);
    });
  });

  describe('Google image, codeship/gcr-dockercfg-generator variables', () => {
    const codeship = {
      GOOGLE_AUTH_JSON: JSON.stringify(JSON.parse(serviceAccount.keyJson)), // "merged onto a single line"
      GOOGLE_AUTH_EMAIL: serviceAccount.email,
      GOOGLE_PROJECT_ID: 'berth-project',
      GOOGLE_LOCATION,
    };
    it('writes gcr.io, us/eu/asia.gcr.io and GOOGLE_LOCATION-docker.pkg.dev; docker --config pulls from two of them', async () => {
      const run = await generate(images.google!, codeship, true);
      expect(run.result.code, run.result.stderr).toBe(0);
      expect(run.result.stderr).not.toContain(GOOGLE_TOKEN);
      expect(await writtenHosts(run.out)).toEqual(['asia.gcr.io', 'eu.gcr.io', 'europe-west1-docker.pkg.dev', 'gcr.io', 'us.gcr.io']);
      for (const host of [`${GOOGLE_LOCATION}-docker.pkg.dev`, 'gcr.io']) {
        const pulled = await pullWith(run.out, host);
        expect(pulled.code, pulled.stderr).toBe(0);
      }
    });
    it.each(['GOOGLE_AUTH_JSON', 'GOOGLE_AUTH_EMAIL', 'GOOGLE_PROJECT_ID'])(
      'without %s: exit ≠ 0, one line naming it, no file',
      async (variable) => {
        await expectRefused(await generate(images.google!, { ...codeship, [variable]: '' }, true), variable);
      },
    );
  });

  describe('static image, codeship/dockercfg-generator variables', () => {
    const codeship = () => ({ DOCKER_USERNAME: STATIC.username, DOCKER_PASSWORD: STATIC.password, DOCKER_REGISTRY: registry!.host });
    it('DOCKER_USERNAME, DOCKER_PASSWORD, DOCKER_REGISTRY: docker --config pulls with the file', async () => {
      const run = await generate(images.static!, codeship());
      expect(run.result.code, run.result.stderr).toBe(0);
      expect(run.result.stderr).not.toContain(STATIC.password);
      expect(await writtenHosts(run.out)).toEqual([registry!.host]);
      const pulled = await pullWith(run.out, registry!.host);
      expect(pulled.code, pulled.stderr).toBe(0);
    });
    it('without DOCKER_REGISTRY: Docker Hub, as Codeship', async () => {
      const { DOCKER_REGISTRY: _, ...hub } = codeship();
      const run = await generate(images.static!, hub);
      expect(run.result.code, run.result.stderr).toBe(0);
      expect(await writtenHosts(run.out)).toEqual(['https://index.docker.io/v1/']);
    });
    it.each(['DOCKER_USERNAME', 'DOCKER_PASSWORD'])('without %s: exit ≠ 0, one line naming it, no file', async (variable) => {
      await expectRefused(await generate(images.static!, { ...codeship(), [variable]: '' }), variable);
    });
  });

  describe('Azure and all-provider images', () => {
    it('azure: exchanges an Entra token at the registry; docker --config pulls with the file', async () => {
      const env = {
        AZURE_TENANT_ID: TENANT,
        AZURE_CLIENT_ID: CLIENT.clientId,
        AZURE_CLIENT_SECRET: CLIENT.secret,
        BERTH_REGISTRIES: ACR_HOST,
      };
      const run = await generate(images.azure!, env, true);
      expect(run.result.code, run.result.stderr).toBe(0);
      const pulled = await pullWith(run.out, ACR_HOST);
      expect(pulled.code, pulled.stderr).toBe(0);
    });
    it('all: an ECR host and a static host in one file', async () => {
      const env = {
        ...AWS_BASE,
        ...awsEndpoints(),
        BERTH_REGISTRIES: `${ecrHost(OWN_ACCOUNT)},${registry!.host}`,
        DOCKER_USERNAME: STATIC.username,
        DOCKER_PASSWORD: STATIC.password,
      };
      const run = await generate(images.all!, env);
      expect(run.result.code, run.result.stderr).toBe(0);
      for (const host of [ecrHost(OWN_ACCOUNT), registry!.host]) {
        const pulled = await pullWith(run.out, host);
        expect(pulled.code, pulled.stderr).toBe(0);
      }
    });
  });
});
