/**
 * @module
 * A stand-in cloud token endpoint on 127.0.0.1 for daemon tests: it mints numbered tokens with a
 * chosen lifetime after a chosen delay, counts calls, and fails the ways clouds fail — 500, 429
 * throttling, or connection refused (its listener closed, then reopened on the same port).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode = 'ok' | 'server-error' | 'throttled' | 'refused';

export interface TokenService {
  url: string;
  calls: () => number;
  lifetimeMs: number;
  delayMs: number;
  setMode(mode: Mode): Promise<void>;
  close(): Promise<void>;
}

export async function startTokenService(options: { lifetimeMs: number; delayMs?: number }): Promise<TokenService> {
  let calls = 0;
  let serial = 0;
  let mode: Mode = 'ok';
  const service = {
    lifetimeMs: options.lifetimeMs,
    delayMs: options.delayMs ?? 0,
  };
  const server: Server = createServer((req, res) => {
    calls++;
    const registry = new URL(req.url ?? '/', 'http://x').searchParams.get('registry') ?? '';
    setTimeout(() => {
      if (mode === 'server-error') return void res.writeHead(500).end('{"__type":"ServerException"}');
      if (mode === 'throttled') return void res.writeHead(429).end('{"__type":"ThrottlingException","message":"Rate exceeded"}');
      const expiresAt = new Date(Date.now() + service.lifetimeMs).toISOString();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ username: 'AWS', secret: `token-${++serial}-${registry}`, expiresAt }));
    }, service.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return Object.assign(service, {
    url: `http://127.0.0.1:${port}`,
    calls: () => calls,
    async setMode(next: Mode) {
      if (next === mode) return;
      if (next === 'refused') await stop();
      if (mode === 'refused') await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      mode = next;
    },
    async close() {
      if (mode !== 'refused') await stop();
    },
  });
}
