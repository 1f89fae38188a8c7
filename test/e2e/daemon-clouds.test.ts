// The daemon process with real cloud providers. Google: google-auth-library (unmodified) signs a
// service account assertion and talks through the test's HTTPS proxy to the fake Google token
// endpoint, which verifies the RS256 signature as Google does; the test can hold, slow or fail that
// endpoint. ECR: the AWS SDK signs GetAuthorizationToken with SigV4 and calls the fake AWS
// (AWS_ENDPOINT_URL_ECR), which verifies the signature; the test can hold it, make it answer 500 or
// ThrottlingException, or refuse connections.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeAws, TEST_KEY, fakeAwsEnv } from '../fakes/aws.js';
import { GOOGLE_TOKEN_HOST, createServiceAccount, fakeGoogle } from '../fakes/google-cloud.js';
import { startHttpsProxy, type FakeRequest, type FakeResponse, type HostHandler, type HttpsProxy } from '../fakes/https-proxy.js';
import { spawn } from 'node:child_process';
import { harnessDaemonEntry, metric, startDaemonProcess, tempHome } from './harness/daemon.js';
import { tempDir } from '../fakes/temp.js';
import { argvFor, berthCommand, type Program } from './harness/build.js';

const GAR = 'europe-docker.pkg.dev';
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const GET_TOKEN = 'GetAuthorizationToken';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

type Mode = 'ok' | 'server-error' | 'throttled';

/** The fake Google token endpoint behind a switch: held, slowed, failing, or answering. */
async function googleBehindSwitch(expiresIn: number) {
  const dir = await tempDir('berth-gcp-');
  const proxy = await startHttpsProxy({ dir });
  cleanups.push(() => proxy.close());
  const account = createServiceAccount();
  const google = fakeGoogle({ serviceAccounts: [account], expiresIn });
  const routes = new Map<string, HostHandler>();
  google.install({ route: (host: string, handler: HostHandler) => routes.set(host, handler) } as unknown as HttpsProxy);
  const control = { mode: 'ok' as Mode, delayMs: 0, calls: 0, gate: undefined as Promise<void> | undefined };
  proxy.route(GOOGLE_TOKEN_HOST, async (request: FakeRequest): Promise<FakeResponse | undefined> => {
    control.calls++;
    if (control.gate) await control.gate;
    if (control.delayMs) await new Promise((resolve) => setTimeout(resolve, control.delayMs));
    if (control.mode === 'server-error') return { status: 500, json: { error: 'internal_failure' } };
    if (control.mode === 'throttled') return { status: 429, json: { error: 'rate_limit_exceeded', error_description: 'Quota exceeded' } };
    return routes.get(GOOGLE_TOKEN_HOST)!(request);
  });
  const keyFile = join(dir, 'key.json');
  await writeFile(keyFile, account.keyJson, { mode: 0o600 });
  return { proxy, google, control, keyFile };
}

async function daemonWithGoogle(options: { expiresIn: number; backoffMs?: number }) {
  const cloud = await googleBehindSwitch(options.expiresIn);
  const home = await tempHome();
  cleanups.push(home.cleanup);
  const env = {
    ...home.env,
    ...cloud.proxy.env,
    GOOGLE_APPLICATION_CREDENTIALS: cloud.keyFile,
    BERTH_TEST_PROVIDER: 'google',
    BERTH_TEST_BACKOFF_MS: String(options.backoffMs ?? 300),
  };
  const daemon = await startDaemonProcess(await harnessDaemonEntry(), [], env, join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock'));
  cleanups.push(() => daemon.stop());
  const get = async () => {
    const started = performance.now();
    const res = await daemon.request(`/v1/credentials?registry=${GAR}`);
    const body = res.status === 200 ? (JSON.parse(res.body) as { Username: string; Secret: string; ExpiresAt: string }) : undefined;
    return { status: res.status, text: res.body, body, ms: performance.now() - started, receivedAt: Date.now() };
  };
  const metrics = async () => (await daemon.request('/metrics')).body;
  return { ...cloud, daemon, get, metrics };
}

/** The daemon process with the real ECR provider (AWS SDK) pointed at the fake AWS, which checks SigV4. */
async function daemonWithFakeAws(options: { lifetimeSeconds?: number; backoffMs?: number } = {}) {
  const fake = await FakeAws.start();
  cleanups.push(() => fake.close());
  fake.setToken({ lifetimeSeconds: options.lifetimeSeconds ?? 12 * 3600 });
  const home = await tempHome();
  cleanups.push(home.cleanup);
  const aws = fakeAwsEnv(fake, home.dir, {
    AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
    AWS_REGION: 'eu-west-1',
  });
  const env = { ...home.env, ...aws, BERTH_TEST_PROVIDER: 'ecr', BERTH_TEST_BACKOFF_MS: String(options.backoffMs ?? 300) };
  const socketPath = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock');
  const daemon = await startDaemonProcess(await harnessDaemonEntry(), [], env, socketPath);
  cleanups.push(() => daemon.stop());
  const get = async () => {
    const started = performance.now();
    const res = await daemon.request(`/v1/credentials?registry=${ECR}`);
    const body = res.status === 200 ? (JSON.parse(res.body) as { Username: string; Secret: string; ExpiresAt: string }) : undefined;
    return { status: res.status, text: res.body, body, ms: performance.now() - started, receivedAt: Date.now() };
  };
  return { fake, daemon, get };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('berth daemon with the Google provider and the fake Google token endpoint', () => {
  it('500 concurrent gets on a cold daemon make exactly one token call', async () => {
    const { google, control, get } = await daemonWithGoogle({ expiresIn: 3599 });
    let open: () => void = () => undefined;
    control.gate = new Promise((resolve) => (open = resolve));
    const gets = Promise.all(Array.from({ length: 500 }, get));
    for (const deadline = Date.now() + 30_000; control.calls === 0 && Date.now() < deadline; ) await sleep(20);
    await sleep(500); // a second call, if any, would arrive meanwhile
    open();
    const results = await gets;
    expect(results.map((r) => r.status)).toEqual(Array(500).fill(200));
    expect(new Set(results.map((r) => r.body!.Secret))).toEqual(new Set([google.issued[0]]));
    expect(results[0]!.body!.Username).toBe('oauth2accesstoken');
    expect(control.calls).toBe(1);
    expect(google.calls.token).toBe(1);
  });

  it('20-second tokens from a slow endpoint are refreshed ahead: no get waits or sees an expired token', async () => {
    const { control, get, metrics } = await daemonWithGoogle({ expiresIn: 20 });
    await get();
    control.delayMs = 1_500;
    const secrets = new Set<string>();
    for (const until = Date.now() + 32_000; Date.now() < until; await sleep(100)) {
      const r = await get();
      expect(r.status, r.text).toBe(200);
      expect(Date.parse(r.body!.ExpiresAt)).toBeGreaterThan(r.receivedAt);
      expect(r.ms, 'a get waited on the provider').toBeLessThan(1_450);
      secrets.add(r.body!.Secret);
    }
    expect(secrets.size).toBeGreaterThanOrEqual(2);
    expect(metric(await metrics(), 'berth_daemon_cache_misses_total', GAR)).toBe(1);
  }, 90_000);

  it('token endpoint failing (500, then 429) while a token is valid: every get succeeds, metrics count failures, recovery refreshes', async () => {
    const { control, get, metrics } = await daemonWithGoogle({ expiresIn: 60 });
    const first = await get();
    control.mode = 'server-error';
    let recovered = false;
    for (const until = Date.now() + 90_000; Date.now() < until && !recovered; await sleep(100)) {
      const failures = metric(await metrics(), 'berth_daemon_refresh_failures_total', GAR) ?? 0;
      if (control.mode === 'server-error' && failures >= 1) control.mode = 'throttled';
      else if (control.mode === 'throttled' && failures >= 2) control.mode = 'ok';
      const r = await get();
      expect(r.status, r.text).toBe(200);
      expect(Date.parse(r.body!.ExpiresAt)).toBeGreaterThan(r.receivedAt);
      recovered = r.body!.Secret !== first.body!.Secret;
    }
    expect(recovered).toBe(true);
    const text = await metrics();
    expect(metric(text, 'berth_daemon_refresh_failures_total', GAR)).toBeGreaterThanOrEqual(2);
    expect(metric(text, 'berth_daemon_token_stale', GAR)).toBe(0);
    expect(metric(text, 'berth_daemon_cache_misses_total', GAR)).toBe(1);
  }, 150_000);
});

describe('berth daemon with the ECR provider and the fake AWS', () => {
  it('500 concurrent gets on a cold daemon make exactly one GetAuthorizationToken call', async () => {
    const { fake, get } = await daemonWithFakeAws();
    fake.hold();
    const gets = Promise.all(Array.from({ length: 500 }, get));
    await fake.waitForCalls(GET_TOKEN, 1);
    await sleep(500); // any second call would arrive meanwhile
    fake.release();
    const results = await gets;
    expect(results.map((r) => r.status)).toEqual(Array(500).fill(200));
    expect(new Set(results.map((r) => r.body!.Secret)).size).toBe(1);
    expect(results[0]!.body!.Username).toBe('AWS');
    expect(fake.count(GET_TOKEN)).toBe(1);
  });

  it('ECR down (500, throttling, refused) while a 60-second token is valid: every get succeeds; recovery refreshes', async () => {
    const { fake, daemon, get } = await daemonWithFakeAws({ lifetimeSeconds: 60 });
    const first = await get();
    expect(first.status).toBe(200);
    fake.fail('server-error');
    const until = Date.now() + 90_000;
    let recovered = false;
    let stage = 0;
    while (Date.now() < until && !recovered) {
      const failures = metric((await daemon.request('/metrics')).body, 'berth_daemon_refresh_failures_total', ECR) ?? 0;
      if (stage === 0 && failures >= 1) fake.fail('throttle'), stage++;
      else if (stage === 1 && failures >= 2) await fake.refuseConnections(), stage++;
      else if (stage === 2 && failures >= 3) fake.heal(), await fake.acceptConnections(), stage++;
      const r = await get();
      expect(r.status, r.text).toBe(200);
      expect(Date.parse(r.body!.ExpiresAt)).toBeGreaterThan(r.receivedAt);
      recovered = stage === 3 && Date.parse(r.body!.ExpiresAt) > Date.parse(first.body!.ExpiresAt);
      await sleep(100);
    }
    expect(recovered).toBe(true);
    const metrics = (await daemon.request('/metrics')).body;
    expect(metric(metrics, 'berth_daemon_refresh_failures_total', ECR)).toBeGreaterThanOrEqual(3);
    expect(metric(metrics, 'berth_daemon_token_stale', ECR)).toBe(0);
    expect(metric(metrics, 'berth_daemon_cache_misses_total', ECR)).toBe(1);
  }, 150_000);
});

describe('berth daemon start (built CLI) with an ECR registry in the config', () => {
  const run = (program: Program, args: string[], env: NodeJS.ProcessEnv, input = '') =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(...argvFor(program, args), { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
      child.stdin.end(input);
    });

  it('docker-credential-berth get is answered by the daemon; the cloud is asked once', async () => {
    const fake = await FakeAws.start();
    cleanups.push(() => fake.close());
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const config = join(home.dir, 'berth.json');
    await writeFile(config, JSON.stringify({ registries: [{ name: 'prod', provider: 'ecr', host: ECR }] }));
    const aws = fakeAwsEnv(fake, home.dir, {
      AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
      AWS_REGION: 'eu-west-1',
    });
    const env = { ...home.env, ...aws, BERTH_CONFIG: config, BERTH_DAEMON_CONNECT_TIMEOUT_MS: '10000', BERTH_DAEMON_TIMEOUT_MS: '30000' };
    const daemon = await startDaemonProcess(
      berthCommand('berth'),
      ['daemon', 'start'],
      env,
      join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock'),
    );
    cleanups.push(() => daemon.stop());
    // The helper runs without any AWS setting: only the daemon can produce the token.
    const helperEnv = { ...home.env, BERTH_CONFIG: config, BERTH_DAEMON_CONNECT_TIMEOUT_MS: '10000', BERTH_DAEMON_TIMEOUT_MS: '30000' };
    for (const serverURL of [ECR, `https://${ECR}`, ECR]) {
      const got = await run('helper', ['get'], helperEnv, serverURL);
      expect(got.code, got.stdout + got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ ServerURL: serverURL, Username: 'AWS', Secret: 'fake-ecr-password' });
      expect(got.stderr).toBe('');
    }
    expect(fake.count(GET_TOKEN)).toBe(1);
    const status = await run('berth', ['daemon', 'status'], helperEnv);
    expect(status.stdout).toMatch(new RegExp(`^${ECR.replace(/\./g, '\\.')}\\s+\\d+s\\s+11h59m\\s+-$`, 'm'));
    expect(await daemon.stop()).toBe(0);
    expect(daemon.output()).not.toContain('fake-ecr-password');
  }, 90_000);
});
