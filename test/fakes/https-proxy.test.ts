// The test proxy itself: TLS under real host names with the test CA, refusal of unknown hosts, and
// forwarding to a local plain-HTTP server. A client that does not trust the CA must fail.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch, ProxyAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHttpsProxy, type HttpsProxy } from './https-proxy.js';
import { fixtureDir, removeDir } from './temp.js';

let dir: string;
let proxy: HttpsProxy;
let backend: Server;
let trusted: ProxyAgent;

beforeAll(async () => {
  dir = await fixtureDir('berth-proxy-');
  proxy = await startHttpsProxy({
    dir,
    routes: {
      'oauth2.googleapis.com': (request) => ({
        json: { method: request.method, path: request.url.pathname, grant: request.form.get('grant_type') },
      }),
    },
  });
  backend = createServer((req, res) => res.end(`backend saw ${req.method} ${req.url} for ${req.headers.host}`));
  backend.listen(0, '127.0.0.1');
  await once(backend, 'listening');
  const backendPort = (backend.address() as AddressInfo).port;
  proxy.forward('registry.example.test', backendPort);
  proxy.forward('mixed.example.test', backendPort);
  proxy.route('mixed.example.test', (request) =>
    request.url.pathname === '/oauth2/exchange' ? { json: { refresh_token: 'r' } } : undefined,
  );
  trusted = new ProxyAgent({ uri: proxy.url, requestTls: { ca: proxy.ca.certPem } });
});

afterAll(async () => {
  await trusted?.close();
  await proxy?.close();
  backend?.closeAllConnections();
  await new Promise((resolve) => backend?.close(resolve));
  if (dir) await removeDir(dir);
});

describe('startHttpsProxy', () => {
  it('answers a routed host over TLS with a certificate the test CA signed', async () => {
    const response = await fetch('https://oauth2.googleapis.com/token', {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'x' }),
      dispatcher: trusted,
    });
    expect(await response.json()).toEqual({ method: 'POST', path: '/token', grant: 'x' });
    expect(proxy.log).toContain('POST oauth2.googleapis.com/token');
  });

  it('is not trusted without the test CA', async () => {
    const untrusted = new ProxyAgent({ uri: proxy.url });
    const error = await fetch('https://oauth2.googleapis.com/token', { dispatcher: untrusted }).then(
      () => undefined,
      (err: Error & { cause?: { code?: string } }) => err.cause?.code,
    );
    await untrusted.close();
    expect(error).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
  });

  it('refuses hosts it serves no handler for', async () => {
    await expect(fetch('https://evil.example/', { dispatcher: trusted })).rejects.toThrow();
    expect(proxy.refused).toContain('CONNECT evil.example:443');
  });

  it('forwards a host to a local plain-HTTP server', async () => {
    const response = await fetch('https://registry.example.test/v2/', { dispatcher: trusted });
    expect(await response.text()).toBe('backend saw GET /v2/ for registry.example.test');
  });

  it('answers from the route first and forwards what it passes on', async () => {
    const exchange = await fetch('https://mixed.example.test/oauth2/exchange', { method: 'POST', body: 'a=b', dispatcher: trusted });
    expect(await exchange.json()).toEqual({ refresh_token: 'r' });
    const api = await fetch('https://mixed.example.test/v2/_catalog?n=1', { dispatcher: trusted });
    expect(await api.text()).toBe('backend saw GET /v2/_catalog?n=1 for mixed.example.test');
    expect(proxy.log).toContain(`GET mixed.example.test/v2/_catalog -> 127.0.0.1:${(backend.address() as AddressInfo).port}`);
  });
});
