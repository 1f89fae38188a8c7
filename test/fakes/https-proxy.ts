/**
 * @module
 * A CONNECT proxy on 127.0.0.1 that stands in for cloud endpoints under their real host names. For
 * each tunnel it terminates TLS with a certificate for the requested host signed by a test CA, and
 * answers with the handler registered for that host. A child process given `env` (HTTPS_PROXY,
 * NODE_EXTRA_CA_CERTS) talks to these handlers with unmodified SDKs, as it would to the real service.
 */
import { once } from 'node:events';
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  /** Whether the body was sent as a form (`application/x-www-form-urlencoded`), as OAuth endpoints require. */
  isForm: boolean;
}

export interface FakeResponse {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as application/json. */
  json?: unknown;
  text?: string;
}

/** Answers a request; undefined passes it on to the host's forward (see `forward`), else 404. */
export type HostHandler = (request: FakeRequest) => FakeResponse | undefined | Promise<FakeResponse | undefined>;

export class HttpsProxy {
  /** `http://127.0.0.1:PORT` once started. */
  url = '';
  readonly ca: TestCa;
  /** Every request answered, as `METHOD host/path` (and forwarded tunnels), in order. */
  readonly log: string[] = [];
  /** Tunnels or requests refused because no handler serves the host. */
  readonly refused: string[] = [];
  /** Handler exceptions (answered with 500): a fake that throws is a bug in the test. */
  readonly errors: Error[] = [];
  readonly #routes: Map<string, HostHandler>;
  readonly #forwards = new Map<string, number>();
  readonly #contexts = new Map<string, SecureContext>();
  readonly #sockets = new Set<Socket>();
  readonly #tunnelHost = new WeakMap<object, string>();
  /** Requests arriving inside a tunnel: the host is the one the tunnel was opened for. */
  readonly #inner: Server;
  /** The proxy itself: CONNECT tunnels, and plain forward requests (`GET http://host/path`). */
  readonly #proxy: Server;

  constructor(options: { dir: string; routes?: Record<string, HostHandler> }) {
    this.ca = createTestCa(options.dir);
    this.#routes = new Map(Object.entries(options.routes ?? {}));
    this.#inner = createServer((req, res) => {
      const host = this.#tunnelHost.get(req.socket) ?? '';
      const scheme = req.socket instanceof TLSSocket ? 'https' : 'http';
      void this.#answer(req, res, host, new URL(req.url ?? '/', `${scheme}://${host}`));
    });
    this.#proxy = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://invalid');
      void this.#answer(req, res, stripDot(url.hostname), url);
    });
    this.#proxy.on('connection', (socket: Socket) => this.#track(socket));
    this.#proxy.on('connect', (req: IncomingMessage, socket: Socket) => this.#connect(req, socket));
  }

  /** What a child process needs to reach the fakes: HTTPS_PROXY, HTTP_PROXY, NODE_EXTRA_CA_CERTS. */
  get env(): Record<string, string> {
    return { HTTPS_PROXY: this.url, HTTP_PROXY: this.url, NODE_EXTRA_CA_CERTS: this.ca.certPath };
  }

  async listen(): Promise<void> {
    this.#proxy.listen(0, '127.0.0.1');
    await once(this.#proxy, 'listening');
    this.url = `http://127.0.0.1:${(this.#proxy.address() as AddressInfo).port}`;
  }

  route(host: string, handler: HostHandler): void {
    this.#routes.set(host, handler);
  }

  /**
   * Serve `host` (port 443) from a plain-HTTP server on 127.0.0.1:`port`, e.g. a real docker-registry:
   * TLS ends at the proxy, bytes flow unchanged to the server. With a route for the same host too,
   * the route answers first and what it passes on (undefined) goes to the server: a fake ACR
   * `/oauth2/exchange` in front of a real registry's `/v2/`.
   */
  forward(host: string, port: number): void {
    this.#forwards.set(host, port);
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    this.#inner.closeAllConnections();
    await new Promise<void>((resolve) => this.#proxy.close(() => resolve()));
  }

  #connect(req: IncomingMessage, socket: Socket): void {
    const target = new URL(`http://${req.url ?? ''}`);
    const host = stripDot(target.hostname);
    const forwardPort = target.port === '443' ? this.#forwards.get(host) : undefined;
    if (forwardPort === undefined && !this.#routes.has(host)) {
      this.refused.push(`CONNECT ${req.url}`);
      socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    // Clients wait for the 200 before sending, so there is no early data. TLS for port 443, plain
    // HTTP otherwise (the metadata server on port 80): TLSSocket takes over the socket's handle, so
    // peeking at the first byte would lose it.
    const stream = target.port === '443' ? new TLSSocket(socket, { isServer: true, secureContext: this.#secureContext(host) }) : socket;
    if (forwardPort !== undefined && !this.#routes.has(host)) {
      this.#pipe(stream, host, forwardPort);
      return;
    }
    this.#tunnelHost.set(stream, host);
    this.#inner.emit('connection', stream);
  }

  #pipe(stream: Socket, host: string, port: number): void {
    const upstream = connect(port, '127.0.0.1');
    this.#track(upstream);
    this.log.push(`CONNECT ${host} -> 127.0.0.1:${port}`);
    stream.pipe(upstream).pipe(stream);
    const destroy = (): void => void (stream.destroy(), upstream.destroy());
    stream.on('error', destroy).on('close', destroy);
    upstream.on('error', destroy).on('close', destroy);
  }

  async #answer(req: IncomingMessage, res: ServerResponse, host: string, url: URL): Promise<void> {
    const handler = this.#routes.get(host);
    if (!handler) {
      this.refused.push(`${req.method} ${host}${url.pathname}`);
      res.writeHead(502).end();
      return;
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    try {
      const isForm = /^application\/x-www-form-urlencoded\b/i.test(req.headers['content-type'] ?? '');
      const reply = await handler({
        method: req.method ?? 'GET',
        host,
        url,
        headers: req.headers,
        body,
        form: new URLSearchParams(body),
        isForm,
      });
      const forwardPort = this.#forwards.get(host);
      if (reply === undefined && forwardPort !== undefined) {
        this.log.push(`${req.method} ${host}${url.pathname} -> 127.0.0.1:${forwardPort}`);
        this.#relay(req, res, forwardPort, Buffer.concat(chunks));
        return;
      }
      this.log.push(`${req.method} ${host}${url.pathname}`);
      if (reply === undefined) {
        res.writeHead(404).end();
        return;
      }
      const headers = { ...(reply.json !== undefined ? { 'content-type': 'application/json' } : {}), ...reply.headers };
      res.writeHead(reply.status ?? 200, headers).end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.text ?? ''));
    } catch (err) {
      this.errors.push(err as Error);
      res.writeHead(500).end();
    }
  }

  /** One request passed on to a local server, its answer streamed back. */
  #relay(req: IncomingMessage, res: ServerResponse, port: number, body: Buffer): void {
    const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      this.errors.push(err);
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    upstream.end(body);
  }

  #secureContext(host: string): SecureContext {
    let context = this.#contexts.get(host);
    if (!context) {
      const { certPem, keyPem } = this.ca.issueServerCertificate([host]);
      context = createSecureContext({ cert: certPem, key: keyPem });
      this.#contexts.set(host, context);
    }
    return context;
  }

  #track(socket: Socket): void {
    this.#sockets.add(socket);
    socket.on('close', () => this.#sockets.delete(socket));
  }
}

/** Starts a proxy on 127.0.0.1 (a free port) with a new test CA written to `dir`. */
export async function startHttpsProxy(options: { dir: string; routes?: Record<string, HostHandler> }): Promise<HttpsProxy> {
  const proxy = new HttpsProxy(options);
  await proxy.listen();
  return proxy;
}

/** `metadata.google.internal.` (fully qualified, as gcp-metadata spells it) is the same host. */
function stripDot(host: string): string {
  return host.replace(/\.$/, '').toLowerCase();
}
