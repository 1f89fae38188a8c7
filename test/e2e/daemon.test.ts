import { spawn, spawnSync } from 'node:child_process';
import { chmod, lstat, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { argvFor, berthCommand } from './harness/build.js';
import { spawnCollect } from './harness/clients.js';
import { harnessDaemonEntry, metric, startDaemonProcess, tempHome, type DaemonProcess } from './harness/daemon.js';
import { startTokenService, type TokenService } from './harness/token-service.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function daemonWithTokenService(options: { lifetimeMs: number; delayMs?: number; backoffMs?: number }) {
  const tokens = await startTokenService(options);
  cleanups.push(() => tokens.close());
  const home = await tempHome();
  cleanups.push(home.cleanup);
  const env = { ...home.env, BERTH_TEST_TOKEN_URL: tokens.url, BERTH_TEST_BACKOFF_MS: String(options.backoffMs ?? 200) };
  const socketPath = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock');
  const daemon = await startDaemonProcess(await harnessDaemonEntry(), [], env, socketPath);
  cleanups.push(() => daemon.stop());
  return { tokens, daemon, home, env };
}

async function get(daemon: DaemonProcess, registry = ECR) {
  const started = performance.now();
  const res = await daemon.request(`/v1/credentials?registry=${encodeURIComponent(registry)}`);
  const ms = performance.now() - started;
  const body = res.status === 200 ? (JSON.parse(res.body) as { Secret: string; ExpiresAt: string }) : undefined;
  return { status: res.status, body, ms, receivedAt: Date.now(), text: res.body };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('berth daemon (real process, unix socket)', () => {
  it('500 concurrent gets on a cold daemon cause exactly one provider call', async () => {
    const { tokens, daemon } = await daemonWithTokenService({ lifetimeMs: 3_600_000, delayMs: 300 });
    const results = await Promise.all(Array.from({ length: 500 }, () => get(daemon)));
    expect(results.map((r) => r.status)).toEqual(Array(500).fill(200));
    expect(new Set(results.map((r) => r.body!.Secret))).toEqual(new Set([`token-1-${ECR}`]));
    expect(tokens.calls()).toBe(1);
  });

  it('a 20-second token is refreshed before expiry: no get returns an expired token or waits on the provider', async () => {
    const { tokens, daemon } = await daemonWithTokenService({ lifetimeMs: 20_000, delayMs: 1_500 });
    await get(daemon); // the cold fetch is the only one that waits
    const secrets = new Set<string>();
    const until = Date.now() + 32_000;
    while (Date.now() < until) {
      const r = await get(daemon);
      expect(r.status).toBe(200);
      expect(Date.parse(r.body!.ExpiresAt)).toBeGreaterThan(r.receivedAt);
      // A get that waited on the 1.5 s provider takes longer than this; the misses counter below is exact.
      expect(r.ms, 'a get waited on the provider').toBeLessThan(1_450);
      secrets.add(r.body!.Secret);
      await sleep(100);
    }
    expect(secrets.size).toBeGreaterThanOrEqual(2);
    expect(tokens.calls()).toBeGreaterThanOrEqual(2);
    const metrics = (await daemon.request('/metrics')).body;
    expect(metric(metrics, 'berth_daemon_cache_misses_total', ECR)).toBe(1);
  }, 90_000);

  it('provider down (500, throttled, refused) while a token is valid: every get succeeds, metrics count failures, recovery refreshes', async () => {
    const { tokens, daemon } = await daemonWithTokenService({ lifetimeMs: 30_000, backoffMs: 300 });
    const first = await get(daemon);
    const plan: [failuresSeen: number, next: Parameters<TokenService['setMode']>[0]][] = [
      [0, 'server-error'],
      [1, 'throttled'],
      [2, 'refused'],
      [3, 'ok'],
    ];
    const until = Date.now() + 45_000;
    let recovered: string | undefined;
    while (Date.now() < until && !recovered) {
      const failures = metric((await daemon.request('/metrics')).body, 'berth_daemon_refresh_failures_total', ECR) ?? 0;
      if (plan[0] && failures >= plan[0][0]) await tokens.setMode(plan.shift()![1]);
      const r = await get(daemon);
      expect(r.status, r.text).toBe(200);
      expect(Date.parse(r.body!.ExpiresAt)).toBeGreaterThan(r.receivedAt);
      if (r.body!.Secret !== first.body!.Secret) recovered = r.body!.Secret;
      await sleep(100);
    }
    expect(recovered).toBeDefined();
    const metrics = (await daemon.request('/metrics')).body;
    expect(metric(metrics, 'berth_daemon_refresh_failures_total', ECR)).toBeGreaterThanOrEqual(3);
    expect(metric(metrics, 'berth_daemon_token_stale', ECR)).toBe(0);
    expect(metric(metrics, 'berth_daemon_refreshes_total', ECR)).toBe(2);
  }, 90_000);

  it('socket 0600 in a 0700 directory; another user (nobody) cannot connect', async () => {
    const { daemon, home } = await daemonWithTokenService({ lifetimeMs: 3_600_000 });
    expect((await lstat(daemon.socketPath)).mode & 0o777).toBe(0o600);
    const socketDir = join(home.env.XDG_RUNTIME_DIR!, 'berth');
    expect((await stat(socketDir)).mode & 0o777).toBe(0o700);
    if (process.getuid?.() !== 0) {
      if (process.env.CI) throw new Error('this test switches to the user nobody and must run as root in CI');
      console.warn('skipped the nobody half: run the tests as root to switch users');
      return;
    }
    const connectAsNobody = () => {
      const code = `require('net').connect(${JSON.stringify(daemon.socketPath)}).on('connect', () => { console.log('CONNECTED'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`;
      return spawnSync(process.execPath, ['-e', code], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 30_000 }).stdout.trim();
    };
    // The directory alone stops it …
    await chmod(home.dir, 0o711);
    await chmod(home.env.XDG_RUNTIME_DIR!, 0o711);
    expect(connectAsNobody()).toBe('EACCES');
    // … and so does the socket's own mode when the directory is opened up.
    await chmod(socketDir, 0o711);
    expect(connectAsNobody()).toBe('EACCES');
    await chmod(socketDir, 0o700);
    expect((await get(daemon)).status).toBe(200);
  });

  it('refuses a request larger than the limit, survives malformed requests (fuzz) and keeps serving', async () => {
    const { daemon } = await daemonWithTokenService({ lifetimeMs: 3_600_000 });
    const big = await daemon.request('/v1/invalidate', { method: 'POST', body: { registry: ECR, pad: 'x'.repeat(64 * 1024) } });
    expect(big.status).toBe(413);
    let seed = 42;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    // Bounded by iterations, not the clock: a slow machine runs the same cases, only slower.
    const CASES = 5_000;
    let sent = 0;
    for (let i = 0; i < CASES; i++) {
      const bytes = Buffer.from(Array.from({ length: 1 + random(3000) }, () => random(256)));
      const prefix = [
        '',
        'GET /v1/credentials?registry=',
        'POST /v1/invalidate HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n',
        'GET /%%% HTTP/1.1\r\n',
      ][random(4)];
      await rawExchange(daemon.socketPath, Buffer.concat([Buffer.from(prefix!), bytes]));
      sent++;
    }
    expect(sent).toBe(CASES);
    expect(daemon.child.exitCode).toBeNull();
    expect((await daemon.request('/healthz')).status).toBe(200);
    expect((await get(daemon)).status).toBe(200);
  }, 60_000);

  it('shuts down gracefully on SIGTERM: exit 0, socket and pid file removed', async () => {
    const { daemon, home } = await daemonWithTokenService({ lifetimeMs: 3_600_000 });
    const pidFile = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.pid');
    expect((await stat(pidFile)).mode & 0o777).toBe(0o600);
    expect(await daemon.stop()).toBe(0);
    await expect(lstat(daemon.socketPath)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(lstat(pidFile)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('after kill -9 the socket is stale; the next start replaces it', async () => {
    const { daemon, env } = await daemonWithTokenService({ lifetimeMs: 3_600_000 });
    daemon.child.kill('SIGKILL');
    await new Promise((resolve) => daemon.child.once('exit', resolve));
    expect((await lstat(daemon.socketPath)).isSocket()).toBe(true);
    const next = await startDaemonProcess(await harnessDaemonEntry(), [], env, daemon.socketPath);
    cleanups.push(() => next.stop());
    expect((await get(next)).status).toBe(200);
  });
});

describe('docker-credential-berth with the daemon', () => {
  // Asynchronous: the token service lives in this process and must keep answering meanwhile.
  const helper = (env: NodeJS.ProcessEnv, action: string, input: string) =>
    new Promise<{ status: number | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
      const started = performance.now();
      const child = spawn(...argvFor('helper', [action]), { env });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      child.once('error', reject);
      child.once('close', (status) => resolve({ status, stdout, stderr, ms: performance.now() - started }));
      child.stdin.end(input);
    });

  it('gets through the daemon; after kill -9 it still answers at once; the next start takes over again', async () => {
    const started = await daemonWithTokenService({ lifetimeMs: 3_600_000 });
    const { tokens, daemon } = started;
    // Generous for a loaded test machine; the default (0.5 s) is for a live local socket.
    const env = { ...started.env, BERTH_DAEMON_CONNECT_TIMEOUT_MS: '10000', BERTH_DAEMON_TIMEOUT_MS: '30000' };
    const stored = await helper(env, 'store', JSON.stringify({ ServerURL: 'ghcr.io', Username: 'octocat', Secret: 'ghp_static' }));
    expect(stored.status, stored.stdout + stored.stderr).toBe(0);

    for (let i = 0; i < 2; i++) {
      const got = await helper(env, 'get', `https://${ECR}`);
      expect(got.status, got.stdout + got.stderr).toBe(0);
      expect(JSON.parse(got.stdout)).toEqual({ ServerURL: `https://${ECR}`, Username: 'AWS', Secret: `token-1-${ECR}` });
      expect(got.stderr).toBe('');
    }
    expect(tokens.calls()).toBe(1);

    daemon.child.kill('SIGKILL');
    await new Promise((resolve) => daemon.child.once('exit', resolve));
    const fromStore = await helper(env, 'get', 'ghcr.io');
    expect(JSON.parse(fromStore.stdout)).toMatchObject({ Username: 'octocat', Secret: 'ghp_static' });
    // The registry only the daemon knew: the helper does not hang on the dead socket, it resolves
    // directly (nothing configured here, so not found) and says so in the protocol's words.
    const direct = await helper(env, 'get', ECR);
    expect(direct.ms).toBeLessThan(10_000);
    expect(direct.status).toBe(1);
    expect(direct.stdout).toBe('credentials not found in native keychain\n');

    const next = await startDaemonProcess(await harnessDaemonEntry(), [], env, daemon.socketPath);
    cleanups.push(() => next.stop());
    const again = await helper(env, 'get', ECR);
    expect(JSON.parse(again.stdout)).toMatchObject({ Secret: `token-2-${ECR}` });
  }, 90_000);

  it('a FIFO, a file or a directory where the socket should be: the helper resolves directly and quietly, at once', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const socketPath = join(home.env.XDG_RUNTIME_DIR!, 'not-a-socket');
    const env = { ...home.env, BERTH_DAEMON_SOCKET: socketPath };
    const make = {
      // nobody ever writes to this FIFO: opening it to read must not wait for a writer
      fifo: () => expect(spawnSync('mkfifo', ['-m', '600', socketPath]).status).toBe(0),
      file: () => writeFile(socketPath, 'not a socket', { mode: 0o600 }),
      directory: () => mkdir(socketPath, { mode: 0o700 }),
    };
    for (const [kind, create] of Object.entries(make)) {
      await rm(socketPath, { recursive: true, force: true });
      await create();
      const got = await helper(env, 'get', ECR);
      expect(got.ms, kind).toBeLessThan(10_000);
      expect(got.status, kind).toBe(1);
      expect(got.stdout, kind).toBe('credentials not found in native keychain\n');
      // as with a stale socket (connect is refused): quiet, the direct path answers
      expect(got.stderr, kind).toBe('');
    }
  }, 60_000);
});

describe('berth daemon start|status|stop (built CLI)', () => {
  it('starts detached, reports status, refuses a second start, stops', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const run = (...args: string[]) =>
      spawnSync(...argvFor('berth', ['daemon', ...args]), { env: home.env, encoding: 'utf8', timeout: 60_000 });
    const started = run('start', '--detach');
    expect(started.stderr).toBe('');
    expect(started.stdout).toMatch(/^berth daemon started \(pid \d+, .*daemon\.sock/);
    cleanups.push(async () => run('stop'));
    const status = run('status');
    expect(status.status).toBe(0);
    expect(status.stdout).toMatch(/^berth daemon \d+\.\d+\.\d+.*, pid \d+/);
    const invalidated = run('invalidate', 'ghcr.io');
    expect(invalidated.stdout).toBe('no cached token for ghcr.io\n');
    const again = run('start', '--detach');
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/^berth: error: a berth daemon is already running/);
    expect(run('stop').stdout).toMatch(/^berth daemon stopped/);
    const after = run('status');
    expect(after.status).toBe(3);
    expect(run('invalidate', 'ghcr.io').status).toBe(3);
    expect(after.stderr).toMatch(/^berth: error: berth daemon is not running/);
  }, 90_000);

  it('--listen adds a loopback TCP listener that needs the bearer token and its own Host', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const socketPath = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock');
    const daemon = await startDaemonProcess(berthCommand('berth'), ['daemon', 'start', '--listen', '127.0.0.1:0'], home.env, socketPath);
    cleanups.push(() => daemon.stop());
    const listening = /http:\/\/127\.0\.0\.1:(\d+)/;
    for (const deadline = Date.now() + 30_000; !listening.test(daemon.output()) && Date.now() < deadline; ) await sleep(50);
    const port = Number(listening.exec(daemon.output())?.[1]);
    const tokenFile = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.token');
    expect((await stat(tokenFile)).mode & 0o777).toBe(0o600);
    const token = (await readFile(tokenFile, 'utf8')).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const tcp = (headers: Record<string, string>) => httpGet(`http://127.0.0.1:${port}/healthz`, headers);
    expect(await tcp({})).toBe(401);
    expect(await tcp({ authorization: 'Bearer wrong' })).toBe(401);
    expect(await tcp({ authorization: `Bearer ${token}`, host: `rebound.example:${port}` })).toBe(421);
    expect(await tcp({ authorization: `Bearer ${token}` })).toBe(200);
    for (const name of ['localhost', '[::1]'])
      expect(await tcp({ authorization: `Bearer ${token}`, host: `${name}:${port}` }), name).toBe(200);
  });

  it('--listen localhost:PORT takes requests that name 127.0.0.1, where it listens', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const socketPath = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock');
    const daemon = await startDaemonProcess(berthCommand('berth'), ['daemon', 'start', '--listen', 'localhost:0'], home.env, socketPath);
    cleanups.push(() => daemon.stop());
    const listening = /http:\/\/[^:]+:(\d+)/;
    for (const deadline = Date.now() + 30_000; !listening.test(daemon.output()) && Date.now() < deadline; ) await sleep(50);
    const port = Number(listening.exec(daemon.output())?.[1]);
    const token = (await readFile(join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.token'), 'utf8')).trim();
    expect(await httpGet(`http://127.0.0.1:${port}/healthz`, { authorization: `Bearer ${token}` })).toBe(200);
    expect(await httpGet(`http://127.0.0.1:${port}/healthz`, { authorization: `Bearer ${token}`, host: `localhost:${port}` })).toBe(200);
  });

  it('two detached starts at once: one daemon, and only its start says started', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const start = () => spawnCollect(...argvFor('berth', ['daemon', 'start', '--detach']), home.env as Record<string, string>);
    const results = await Promise.all([start(), start()]);
    cleanups.push(async () => void spawnSync(...argvFor('berth', ['daemon', 'stop']), { env: home.env, timeout: 30_000 }));
    const status = spawnSync(...argvFor('berth', ['daemon', 'status', '--json']), { env: home.env, encoding: 'utf8', timeout: 30_000 });
    const running = (JSON.parse(status.stdout) as { pid: number }).pid;
    const said = results.map((r) => /^berth daemon started \(pid (\d+),/.exec(r.stdout)?.[1]).filter(Boolean);
    expect(said).toEqual([String(running)]);
    const loser = results.find((r) => r.code !== 0);
    expect(loser?.stderr).toMatch(/^berth: error: a berth daemon is already running \(pid \d+/);
  }, 90_000);

  it('refuses to start when the socket directory is open to others', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    await chmod(home.env.XDG_RUNTIME_DIR!, 0o700);
    const dir = join(home.env.XDG_RUNTIME_DIR!, 'berth');
    spawnSync('mkdir', ['-m', '755', dir]);
    const child = spawn(...argvFor('berth', ['daemon', 'start']), { env: home.env });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(/^berth: error: .*berth is accessible to other users \(mode 755\)\nberth: hint: chmod 700 /);
  });
});

function httpGet(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

function rawExchange(socketPath: string, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    };
    const timer = setTimeout(done, 300);
    socket
      .on('error', done)
      .on('close', done)
      .on('data', () => undefined);
    socket.end(bytes);
  });
}
