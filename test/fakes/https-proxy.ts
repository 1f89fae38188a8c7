/**
 * @module
 * A CONNECT proxy on 127.0.0.1 that stands in for cloud endpoints under their real host names. For
 * each tunnel it terminates TLS with a certificate for the requested host signed by a test CA, and
 * answers with the handler registered for that host. A child process given `env` (HTTPS_PROXY,
 * NODE_EXTRA_CA_CERTS) talks to these handlers with unmodified SDKs, as it would to the real service.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { createTestCa, type TestCa } from './test-ca.js';

export interface FakeRequest {
  method: string;
  /** Host name the client asked for (no port). */
  host: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as an HTML form. */
  form: URLSearchParams;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  text?: string;
}

export type HostHandler = (request: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export interface HttpsProxy {
  /** `http://127.0.0.1:PORT` */
  url: string;
  ca: TestCa;
  /** What a child process needs to reach the fakes: HTTPS_PROXY, HTTP_PROXY, NODE_EXTRA_CA_CERTS. */
  env: Record<string, string>;
  route(host: string, handler: HostHandler): void;
  /**
   * Serve `host` (port 443) from a plain-HTTP server on 127.0.0.1:`port`, e.g. a real docker-registry:
   * TLS ends at the proxy, bytes flow unchanged to the server.
   */
  forward(host: string, port: number): void;
  /** Every request answered, as `METHOD host/path`, in order. */
  log: string[];
  /** Tunnels or requests refused because no handler serves the host. */
  refused: string[];
  /** Handler exceptions (answered with 500): a fake that throws is a bug in the test. */
  errors: Error[];
  close(): Promise<void>;
}

export async function startHttpsProxy(options: { dir: string; routes?: Record<string, HostHandler> }): Promise<HttpsProxy> {
  const ca = createTestCa(options.dir);
  const routes = new Map(Object.entries(options.routes ?? {}));
  const forwards = new Map<string, number>();
  const contexts = new Map<string, SecureContext>();
  const sockets = new Set<Socket>();
  const tunnelHost = new WeakMap<object, string>();
  const log: string[] = [];
  const refused: string[] = [];
  const errors: Error[] = [];

  const secureContext = (host: string): SecureContext => {
    let context = contexts.get(host);
    if (!context) {
      const { certPem, keyPem } = ca.issueServerCertificate([host]);
      context = createSecureContext({ cert: certPem, key: keyPem });
      contexts.set(host, context);
    }
    return context;
  };

  const answer = async (req: IncomingMessage, res: ServerResponse, host: string, url: URL): Promise<void> => {
    const handler = routes.get(host);
    if (!handler) {
      refused.push(`${req.method} ${host}${url.pathname}`);
      res.writeHead(502).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    log.push(`${req.method} ${host}${url.pathname}`);
    try {
      const reply = await handler({ method: req.method ?? 'GET', host, url, headers: req.headers, body, form: new URLSearchParams(body) });
      const headers = { ...(reply.json !== undefined ? { 'content-type': 'application/json' } : {}), ...reply.headers };
      res.writeHead(reply.status ?? 200, headers).end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? ''));
    } catch (err) {
      errors.push(err as Error);
      res.writeHead(500).end();
    }
  };

  // Requests arriving inside a tunnel: the host is the one the tunnel was opened for.
  const inner = createServer((req, res) => {
    const host = tunnelHost.get(req.socket) ?? '';
    const scheme = req.socket instanceof TLSSocket ? 'https' : 'http';
    void answer(req, res, host, new URL(req.url ?? '/', `${scheme}://${host}`));
  });

  // Plain forward-proxy requests (`GET http://host/path`), as HTTP_PROXY clients send them.
  const proxy: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://invalid');
    void answer(req, res, stripDot(url.hostname), url);
  });
  proxy.on('connection', (socket: Socket) => track(sockets, socket));
  proxy.on('connect', (req: IncomingMessage, socket: Socket) => {
    const target = new URL(`http://${req.url ?? ''}`);
    const host = stripDot(target.hostname);
    const forwardPort = target.port === '443' ? forwards.get(host) : undefined;
    if (forwardPort !== undefined) {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      const tls = new TLSSocket(socket, { isServer: true, secureContext: secureContext(host) });
      const upstream = connect(forwardPort, '127.0.0.1');
      track(sockets, upstream);
      log.push(`CONNECT ${host} -> 127.0.0.1:${forwardPort}`);
      tls.pipe(upstream).pipe(tls);
      const destroy = (): void => void (tls.destroy(), upstream.destroy());
      tls.on('error', destroy).on('close', destroy);
      upstream.on('error', destroy).on('close', destroy);
      return;
    }
    if (!routes.has(host)) {
      refused.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Clients wait for the 200 before sending, so `head` is empty. TLS for port 443, plain HTTP
    // otherwise (the metadata server on port 80); TLSSocket takes over the socket's handle, so
    // peeking at the first byte would lose it.
    const stream = target.port === '443' ? new TLSSocket(socket, { isServer: true, secureContext: secureContext(host) }) : socket;
    tunnelHost.set(stream, host);
    inner.emit('connection', stream);
  });

  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  return {
    url,
    ca,
    env: { HTTPS_PROXY: url, HTTP_PROXY: url, NODE_EXTRA_CA_CERTS: ca.certPath },
    route: (host, handler) => void routes.set(host, handler),
    forward: (host, port) => void forwards.set(host, port),
    log,
    refused,
    errors,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      inner.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

function track(sockets: Set<Socket>, socket: Socket): void {
  sockets.add(socket);
  socket.on('close', () => sockets.delete(socket));
}

/** `metadata.google.internal.` (fully qualified, as gcp-metadata spells it) is the same host. */
function stripDot(host: string): string {
  return host.replace(/\.$/, '').toLowerCase();
}
