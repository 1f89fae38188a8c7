import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, requestListener, type AppOptions } from '../../daemon/app.js';
import { RequestMetrics } from '../../daemon/metrics.js';
import { daemonRequest } from '../../core/resolve/daemon-client.js';
import { NOT_FOUND_MESSAGE } from '../../core/errors.js';
import { TokenCache } from '../../core/resolve/refresh.js';
import { DOCKER_HUB_KEY } from '../../core/registry-host.js';
import { FakeProvider } from '../fakes/provider.js';
import { removeDir, tempDir } from '../fakes/temp.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const TWELVE_HOURS = 12 * 3600_000;
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function serve(
  overrides: Partial<AppOptions> = {},
  provider = new FakeProvider({ now: Date.now, lifetimeMs: TWELVE_HOURS, hosts: [ECR, DOCKER_HUB_KEY, 'ghcr.io'] }),
) {
  const dir = await tempDir('berth-app-');
  const socketPath = join(dir, 's');
  const cache = new TokenCache({ resolve: provider.resolve });
  const logged: string[] = [];
  // The daemon's unix-socket listener: the app, with cache hits of /v1/credentials answered in front of it.
  const app = requestListener({
    cache,
    registries: () => [ECR, 'ghcr.io'],
    metrics: new RequestMetrics(),
    now: Date.now,
    log: (line) => logged.push(line),
    version: '9.9.9',
    ...overrides,
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(async () => {
    cache.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await removeDir(dir);
  });
  const request = async (path: string, options: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const response = await daemonRequest(socketPath, { path, ...options, connectTimeoutMs: 10_000, responseTimeoutMs: 30_000 });
    return { status: response.status, text: response.body, json: () => JSON.parse(response.body) as Record<string, unknown> };
  };
  return { request, provider, logged, socketPath };
}

/** Sends raw bytes and returns whatever comes back before the server closes or `ms` passes. */
function rawExchange(socketPath: string, bytes: Buffer | string, ms = 2_000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = connect(socketPath);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', done);
    socket.on('close', done);
    socket.end(bytes);
  });
}

describe('daemon app', () => {
  it('answers /healthz', async () => {
    const { request } = await serve();
    const res = await request('/healthz');
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ status: 'ok', version: '9.9.9', pid: process.pid });
  });

  it('serves a credential, then the same one from memory', async () => {
    const { request, provider } = await serve();
    const first = await request(`/v1/credentials?registry=${encodeURIComponent(`https://${ECR}/v2/`)}`);
    expect(first.status).toBe(200);
    expect(first.json()).toMatchObject({ ServerURL: `https://${ECR}/v2/`, Username: 'AWS', Secret: `token-${ECR}-1`, Registry: ECR });
    expect(Date.parse(first.json().ExpiresAt as string)).toBeGreaterThan(Date.now());
    const second = await request(`/v1/credentials?registry=${ECR}`);
    expect(second.json().Secret).toBe(`token-${ECR}-1`);
    expect(provider.callCount()).toBe(1);
  });

  it('a cache hit is answered in front of express exactly as the app answers it', async () => {
    const provider = new FakeProvider({ now: Date.now, lifetimeMs: TWELVE_HOURS, hosts: [ECR] });
    const cache = new TokenCache({ resolve: provider.resolve });
    let gets = 0;
    const counted = {
      get: (host: string) => (gets++, cache.get(host)),
      cached: (host: string) => cache.cached(host),
      invalidate: cache.invalidate.bind(cache),
      status: cache.status.bind(cache),
    };
    const options = {
      cache: counted,
      registries: () => [ECR],
      metrics: new RequestMetrics(),
      now: Date.now,
      log: () => undefined,
      version: '9.9.9',
    };
    const dir = await tempDir('berth-app-');
    const servers = [createServer(createApp(options)), createServer(requestListener(options))];
    for (const [i, server] of servers.entries()) await new Promise<void>((resolve) => server.listen(join(dir, `s${i}`), resolve));
    cleanups.push(async () => {
      cache.close();
      for (const server of servers) await new Promise((resolve) => server.close(resolve));
      await removeDir(dir);
    });
    const ask = `GET /v1/credentials?registry=${encodeURIComponent(`https://${ECR}/v2/`)} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`;
    const withoutDate = (raw: string) => raw.replace(/\r\nDate: [^\r]*/i, '');
    const fromApp = withoutDate(await rawExchange(join(dir, 's0'), ask)); // fills the cache
    expect(gets).toBe(1);
    const fromFront = withoutDate(await rawExchange(join(dir, 's1'), ask));
    expect(gets).toBe(1); // answered from memory, without the app
    expect(fromFront).toBe(fromApp);
    expect(fromFront).toMatch(/^HTTP\/1\.1 200 OK\r\nContent-Type: application\/json; charset=utf-8\r\n/);
    // anything else goes to the app: another parameter, a body, a registry the cache does not hold
    await rawExchange(join(dir, 's1'), ask.replace('?registry=', '?x=1&registry='));
    await rawExchange(join(dir, 's1'), ask.replace('GET', 'POST').replace('\r\n\r\n', '\r\nContent-Length: 2\r\n\r\n{}'));
    await rawExchange(join(dir, 's1'), ask.replace(encodeURIComponent(`https://${ECR}/v2/`), 'ghcr.io'));
    expect(gets).toBe(3);
  });

  it('treats the Docker Hub aliases as one registry', async () => {
    const { request, provider } = await serve();
    for (const alias of ['docker.io', 'index.docker.io', DOCKER_HUB_KEY, 'registry-1.docker.io']) {
      expect((await request(`/v1/credentials?registry=${encodeURIComponent(alias)}`)).status).toBe(200);
    }
    expect(provider.callCount(DOCKER_HUB_KEY)).toBe(1);
  });

  it('answers not found with the helper protocol text', async () => {
    const { request } = await serve();
    const res = await request('/v1/credentials?registry=unknown.example');
    expect(res.status).toBe(404);
    expect(res.json()).toEqual({ error: NOT_FOUND_MESSAGE });
  });

  it.each([
    ['no registry', '/v1/credentials'],
    ['an empty registry', '/v1/credentials?registry='],
    ['two registries', '/v1/credentials?registry=a.example&registry=b.example'],
    ['a scheme only', '/v1/credentials?registry=https%3A%2F%2F'],
  ])('refuses %s with 400', async (_name, path) => {
    const { request } = await serve();
    const res = await request(path);
    expect(res.status).toBe(400);
    expect(res.json().error).toMatch(/registry/);
  });

  it('a provider failure is a 502 naming the cause; an unexpected error a bare 500, logged', async () => {
    const { request, provider, logged } = await serve();
    provider.outage = 'throttled';
    const res = await request(`/v1/credentials?registry=${ECR}`);
    expect(res.status).toBe(502);
    expect(res.json().error).toMatch(/ThrottlingException/);
    const broken = await serve({
      cache: { get: () => Promise.reject(new TypeError('secret-xyz is not a function')), invalidate: () => false, status: () => [] },
    });
    const internal = await broken.request(`/v1/credentials?registry=${ECR}`);
    expect(internal.status).toBe(500);
    expect(internal.json()).toEqual({ error: 'internal error' });
    expect(broken.logged.join('\n')).toMatch(/internal error: secret-xyz is not a function/);
    expect(logged).toEqual([]);
  });

  it('invalidates one registry on request; the next get fetches a new token', async () => {
    const { request, provider } = await serve();
    await request(`/v1/credentials?registry=${ECR}`);
    await request('/v1/credentials?registry=ghcr.io');
    const res = await request('/v1/invalidate', { method: 'POST', body: { registry: `https://${ECR}` } });
    expect(res.json()).toEqual({ invalidated: true });
    expect((await request(`/v1/credentials?registry=${ECR}`)).json().Secret).toBe(`token-${ECR}-2`);
    expect((await request('/v1/credentials?registry=ghcr.io')).json().Secret).toBe('token-ghcr.io-1');
    expect(provider.callCount(ECR)).toBe(2);
  });

  it.each([
    ['no body', undefined],
    ['a body without registry', { host: ECR }],
    ['a registry that is not a string', { registry: 42 }],
  ])('invalidate refuses %s', async (_name, body) => {
    const { request } = await serve();
    expect((await request('/v1/invalidate', { method: 'POST', body })).status).toBe(400);
  });

  it('refuses malformed JSON with 400', async () => {
    const { socketPath } = await serve();
    const reply = await rawExchange(
      socketPath,
      'POST /v1/invalidate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"re',
    );
    expect(reply).toMatch(/^HTTP\/1.1 400/);
  });

  it('refuses a body over the limit with 413, declared or chunked, and keeps serving', async () => {
    const { request, socketPath } = await serve({ bodyLimitBytes: 1024 });
    const atLimit = JSON.stringify({ registry: ECR, pad: 'x'.repeat(1024 - 40 - ECR.length) });
    expect(Buffer.byteLength(atLimit)).toBeLessThanOrEqual(1024);
    expect((await request('/v1/invalidate', { method: 'POST', body: JSON.parse(atLimit) })).status).toBe(200);
    const over = { registry: ECR, pad: 'x'.repeat(1024) };
    expect((await request('/v1/invalidate', { method: 'POST', body: over })).status).toBe(413);
    const chunk = 'y'.repeat(4096);
    const chunked = `POST /v1/invalidate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n0\r\n\r\n`;
    expect(await rawExchange(socketPath, chunked)).toMatch(/^HTTP\/1.1 413/);
    expect((await request('/healthz')).status).toBe(200);
  });

  it('answers 503 when a request outlives its deadline', async () => {
    const provider = new FakeProvider({ now: Date.now, lifetimeMs: TWELVE_HOURS });
    provider.hold();
    const { request } = await serve({ requestTimeoutMs: 200 }, provider);
    const res = await request(`/v1/credentials?registry=${ECR}`);
    expect(res.status).toBe(503);
    expect(res.json().error).toMatch(/timed out/);
    provider.release();
  });

  it('unknown endpoints get 404, never a crash', async () => {
    const { request } = await serve();
    for (const [method, path] of [
      ['GET', '/'],
      ['PUT', '/v1/credentials'],
      ['DELETE', '/healthz'],
      ['GET', '/%zz'],
      ['GET', '/v1/../../etc/passwd'],
    ]) {
      const res = await request(path!, { method: method! });
      expect(res.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${method} ${path}`).toBeLessThan(500);
    }
  });

  it('builds a docker config for the configured registries', async () => {
    const { request } = await serve();
    const res = await request('/v1/dockercfg');
    expect(res.status).toBe(200);
    const auths = res.json().auths as Record<string, { auth: string }>;
    expect(Object.keys(auths).sort()).toEqual([ECR, 'ghcr.io']);
    expect(Buffer.from(auths[ECR]!.auth, 'base64').toString()).toBe(`AWS:token-${ECR}-1`);
    const one = await request('/v1/dockercfg?registry=ghcr.io');
    expect(Object.keys(one.json().auths as object)).toEqual(['ghcr.io']);
    const missing = await request('/v1/dockercfg?registry=unknown.example');
    expect(missing.status).toBe(502);
  });

  it('writes the legacy .dockercfg and Kubernetes pull Secrets with ?format=', async () => {
    const { request } = await serve();
    const auth = Buffer.from('AWS:token-ghcr.io-1').toString('base64');
    const legacy = await request('/v1/dockercfg?registry=ghcr.io&format=dockercfg');
    expect(legacy.status).toBe(200);
    expect(legacy.json()).toEqual({ 'ghcr.io': { auth, email: 'none' } });
    const secret = await request('/v1/dockercfg?registry=ghcr.io&format=k8s-secret&secret-name=ghcr-pull&namespace=ci');
    expect(secret.status).toBe(200);
    const manifest = secret.json() as { kind: string; type: string; metadata: object; data: Record<string, string> };
    expect(manifest).toMatchObject({
      kind: 'Secret',
      type: 'kubernetes.io/dockerconfigjson',
      metadata: { name: 'ghcr-pull', namespace: 'ci' },
    });
    expect(JSON.parse(Buffer.from(manifest.data['.dockerconfigjson']!, 'base64').toString())).toEqual({ auths: { 'ghcr.io': { auth } } });
    const defaultName = await request('/v1/dockercfg?format=k8s-dockercfg-secret');
    expect(defaultName.json()).toMatchObject({ type: 'kubernetes.io/dockercfg', metadata: { name: 'registry-credentials' } });
  });

  it.each([
    ['format=yaml', /"format" must be one of config, dockercfg, k8s-secret, k8s-dockercfg-secret/],
    ['format=config&format=dockercfg', /"format" must be given once/],
    ['format=k8s-secret&secret-name=Bad_Name', /"Bad_Name" is not a valid Kubernetes secret name/],
    ['format=k8s-secret&namespace=a.b', /"a.b" is not a valid Kubernetes namespace/],
  ])('/v1/dockercfg?%s answers 400 and asks no provider', async (query, message) => {
    const { request, provider } = await serve();
    const res = await request(`/v1/dockercfg?${query}`);
    expect(res.status).toBe(400);
    expect(res.json().error).toMatch(message);
    expect(provider.callCount()).toBe(0);
  });

  it('reports status and Prometheus metrics: refreshes, failures, hits, expiry, latency', async () => {
    const { request, provider } = await serve();
    await request(`/v1/credentials?registry=${ECR}`);
    await request(`/v1/credentials?registry=${ECR}`);
    provider.outage = 'server-error';
    await request('/v1/credentials?registry=ghcr.io');
    const status = await request('/v1/status');
    const registries = status.json().registries as { registryHost: string; lastError?: { message: string } }[];
    expect(registries.find((r) => r.registryHost === 'ghcr.io')?.lastError?.message).toMatch(/500/);
    const metrics = await request('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.text).toContain(`berth_daemon_refreshes_total{registry="${ECR}"} 1`);
    expect(metrics.text).toContain('berth_daemon_refresh_failures_total{registry="ghcr.io"} 1');
    expect(metrics.text).toContain(`berth_daemon_cache_hits_total{registry="${ECR}"} 1`);
    expect(metrics.text).toMatch(new RegExp(`berth_daemon_token_expiry_seconds\\{registry="${ECR.replace(/\./g, '\\.')}"\\} 4319\\d`));
    expect(metrics.text).toMatch(/berth_daemon_request_duration_seconds_count\{route="\/v1\/credentials"\} 3/);
    expect(metrics.text).toContain('berth_daemon_requests_total{route="/v1/credentials",status="502"} 1');
    expect(metrics.text).not.toMatch(/token-\S+-\d/);
  });

  it('POST /v1/shutdown answers 202, then asks the daemon to stop', async () => {
    let stopped = 0;
    const { request } = await serve({ onShutdown: () => stopped++ });
    const res = await request('/v1/shutdown', { method: 'POST' });
    expect(res.status).toBe(202);
    expect(res.json()).toEqual({ stopping: true, pid: process.pid });
    expect(stopped).toBe(1);
    const without = await serve();
    expect((await without.request('/v1/shutdown', { method: 'POST' })).status).toBe(404);
  });

  describe('with a bearer token (TCP listener)', () => {
    const token = 'a'.repeat(43);
    const auth = { token, hosts: ['127.0.0.1:4000'] };
    it.each([
      ['no token', 401, { host: '127.0.0.1:4000' }],
      ['a wrong token', 401, { host: '127.0.0.1:4000', authorization: `Bearer ${'b'.repeat(43)}` }],
      ['a rebound Host', 421, { host: 'evil.example:4000', authorization: `Bearer ${token}` }],
      ['the token and the right Host', 200, { host: '127.0.0.1:4000', authorization: `Bearer ${token}` }],
    ])('%s → %i', async (_name, status, headers) => {
      const { request } = await serve({ auth });
      const res = await request('/healthz', { headers });
      expect(res.status).toBe(status);
      if (status === 401) expect(res.text).not.toContain(token);
    });
  });

  it('survives random requests (fuzz) and keeps serving', async () => {
    const { request, socketPath } = await serve({ bodyLimitBytes: 2048 });
    const pathArb = fc.oneof(
      fc.constantFrom('/v1/credentials', '/v1/invalidate', '/v1/dockercfg', '/v1/status', '/metrics', '/healthz'),
      fc.webPath(),
      fc.string({ unit: 'binary-ascii', maxLength: 60 }).map((s) => `/${encodeURIComponent(s)}`),
    );
    const queryArb = fc.oneof(
      fc.constant(''),
      fc.webQueryParameters().map((q) => `?${q}`),
      fc.string({ maxLength: 30 }).map((s) => `?registry=${encodeURIComponent(s)}`),
    );
    const bodyArb = fc.option(fc.oneof(fc.json(), fc.string({ maxLength: 3000 }), fc.jsonValue()), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        pathArb,
        queryArb,
        bodyArb,
        async (method, path, query, body) => {
          const res = await request(`${path}${query}`, { method, body });
          expect(res.status).toBeGreaterThanOrEqual(200);
          expect(res.status === 500, `${method} ${path}${query}: ${res.text}`).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
    // Bounded by iterations, not the clock: a slow machine runs the same cases, only slower.
    for (let i = 0; i < 40; i++) {
      const garbage = Buffer.from(Array.from({ length: 1 + i * 37 }, (_, j) => (i * 131 + j * 17) % 256));
      await rawExchange(socketPath, garbage, 500);
    }
    expect((await request('/healthz')).status).toBe(200);
    expect((await request(`/v1/credentials?registry=${ECR}`)).status).toBe(200);
  });
});
