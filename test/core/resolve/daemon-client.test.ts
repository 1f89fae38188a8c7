import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonUnavailableError, credentialFromDaemon, daemonDir, daemonSocketPath } from '../../../core/resolve/daemon-client.js';
import { NOT_FOUND_MESSAGE } from '../../../core/errors.js';
import { removeDir, tempDir } from '../../fakes/temp.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function socketServer(handler: (url: string) => [number, string]): Promise<string> {
  const dir = await tempDir('berth-client-');
  const path = join(dir, 's');
  const server: Server = createServer((req, res) => {
    const [status, body] = handler(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await removeDir(dir);
  });
  return path;
}

describe('daemonSocketPath', () => {
  it.each([
    ['BERTH_DAEMON_SOCKET wins', { BERTH_DAEMON_SOCKET: '/s/d.sock', XDG_RUNTIME_DIR: '/run/user/1' }, '/c.sock', '/s/d.sock'],
    ['then the config file', { XDG_RUNTIME_DIR: '/run/user/1' }, '/c.sock', '/c.sock'],
    ['then XDG_RUNTIME_DIR', { XDG_RUNTIME_DIR: '/run/user/1', HOME: '/h' }, undefined, '/run/user/1/berth/daemon.sock'],
    ['else the cache dir', { HOME: '/h' }, undefined, '/h/.cache/berth/run/daemon.sock'],
    ['XDG_CACHE_HOME moves it', { HOME: '/h', XDG_CACHE_HOME: '/c' }, undefined, '/c/berth/run/daemon.sock'],
  ])('%s', (_name, env, configured, expected) => {
    expect(daemonSocketPath(env, configured)).toBe(expected);
  });

  it('the daemon dir holds the socket', () => {
    expect(daemonDir({ XDG_RUNTIME_DIR: '/run/user/7' })).toBe('/run/user/7/berth');
  });
});

describe('credentialFromDaemon', () => {
  it('returns the credential the daemon serves, asking for the URL as given', async () => {
    const urls: string[] = [];
    const path = await socketServer((url) => {
      urls.push(url);
      return [200, JSON.stringify({ Username: 'AWS', Secret: 's3cret', ExpiresAt: '2030-01-01T00:00:00.000Z' })];
    });
    expect(await credentialFromDaemon(path, 'https://ghcr.io/v2/')).toEqual({
      username: 'AWS',
      secret: 's3cret',
      expiresAt: new Date('2030-01-01T00:00:00.000Z'),
    });
    expect(urls).toEqual(['/v1/credentials?registry=https%3A%2F%2Fghcr.io%2Fv2%2F']);
  });

  it('not found from the daemon is undefined; any other 404 means no usable daemon', async () => {
    const notFound = await socketServer(() => [404, JSON.stringify({ error: NOT_FOUND_MESSAGE })]);
    expect(await credentialFromDaemon(notFound, 'ghcr.io')).toBeUndefined();
    const otherDaemon = await socketServer(() => [404, JSON.stringify({ error: 'no such endpoint' })]);
    await expect(credentialFromDaemon(otherDaemon, 'ghcr.io')).rejects.toBeInstanceOf(DaemonUnavailableError);
  });

  it.each([
    ['a provider failure', 502, '{"error":"ThrottlingException"}', /ThrottlingException/],
    ['no JSON', 200, 'hello', /no JSON/],
    ['JSON without a secret', 200, '{"Username":"u"}', /status 200/],
  ])('%s is unavailable (the caller resolves directly)', async (_name, status, body, message) => {
    const path = await socketServer(() => [status, body]);
    await expect(credentialFromDaemon(path, 'ghcr.io')).rejects.toThrow(message);
  });

  it('no socket: unavailable at once, with the code', async () => {
    const started = Date.now();
    const err = await credentialFromDaemon('/nonexistent/berth.sock', 'ghcr.io').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DaemonUnavailableError);
    expect((err as Error).message).toMatch(/ENOENT/);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a daemon that accepts but never answers: unavailable after the response timeout', async () => {
    const dir = await tempDir('berth-client-');
    const path = join(dir, 's');
    const sockets: import('node:net').Socket[] = [];
    const server = createNetServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await removeDir(dir);
    });
    const started = Date.now();
    await expect(credentialFromDaemon(path, 'ghcr.io', { responseTimeoutMs: 300 })).rejects.toThrow(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
