/**
 * @module
 * A fake AWS for tests: one local HTTP server speaking the real wire protocols of ECR
 * (`AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken`, JSON 1.1), ECR Public
 * (`SpencerFrontendService.GetAuthorizationToken`) and STS (`AssumeRole`,
 * `AssumeRoleWithWebIdentity`, query protocol with XML answers). Like AWS it verifies every SigV4
 * signature against the secret of the claimed key, checks the signing service and region, checks
 * session tokens of the temporary keys it issued and the RS256 signature of web identity tokens,
 * and refuses with the real error shapes. It also serves the container credentials and IMDSv2
 * endpoints a workload reads its keys from. Point the unmodified SDK at it with `fake.env`
 * (`AWS_ENDPOINT_URL_ECR`, `AWS_ENDPOINT_URL_ECR_PUBLIC`, `AWS_ENDPOINT_URL_STS`) and
 * `fake.workloadEnv(…)`. Tests steer it: the token it issues and its lifetime (`setToken`), calls
 * counted (`count`, `requests`), held until released (`hold`, `release`, `waitForCalls`), failed
 * (`fail`: 500 or ThrottlingException) or refused at the socket (`refuseConnections`).
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { authenticate, AwsHttpError, type FakeAwsKey } from './aws-auth.js';
import { FakeSts, stsErrorResponse, stsResponse, type FakeAwsRole } from './aws-sts.js';
import { CONTAINER_CREDENTIALS_PATH, FakeWorkloadCredentials } from './aws-workload.js';
import type { SignedRequest } from './sigv4.js';

export type { FakeAwsKey } from './aws-auth.js';
export type { FakeAwsRole } from './aws-sts.js';

/** What the fake saw: one entry per request that reached a service (after the connection). */
export interface FakeAwsRequest {
  service: 'ecr' | 'ecr-public' | 'sts' | 'workload';
  action: string;
  /** The region of the SigV4 credential scope; undefined for unsigned calls. */
  signingRegion?: string;
  /** The principal whose key signed (or the role a web identity asked for). */
  principal?: string;
  /** `ok`, or the error code the fake answered with. */
  outcome: string;
  /** The deprecated `registryIds` of a GetAuthorizationToken call, when a client sends them. */
  registryIds?: string[];
}

export type FakeAwsFailure = 'server-error' | 'throttle';

/** The long-term test key every fake knows; its secret is what tests put in the environment. */
export const TEST_KEY: FakeAwsKey = {
  accessKeyId: 'AKIAFAKEBERTHTEST001',
  secretAccessKey: 'fake/berth/test/secret/key/0000000000001',
  arn: 'arn:aws:iam::123456789012:user/berth-test',
};

interface Issued {
  username: string;
  password: string;
  lifetimeSeconds: number;
}

const ECR_TARGET = 'AmazonEC2ContainerRegistry_V20150921.';
const ECR_PUBLIC_TARGET = 'SpencerFrontendService.';

export class FakeAws {
  readonly requests: FakeAwsRequest[] = [];
  private readonly keys = new Map<string, FakeAwsKey>([[TEST_KEY.accessKeyId, TEST_KEY]]);
  private readonly roles = new Map<string, FakeAwsRole>();
  private readonly sockets = new Set<Socket>();
  private readonly sts = new FakeSts(this.keys, this.roles, () => this.url);
  /** The container credentials and instance metadata endpoints (see `workloadEnv`). */
  readonly workload = new FakeWorkloadCredentials(this.keys);
  private token: Issued = { username: 'AWS', password: 'fake-ecr-password', lifetimeSeconds: 12 * 3600 };
  private failure: { kind: FakeAwsFailure; remaining: number } | undefined;
  /** While set, token calls wait here (already counted) until `release()`. */
  private held: (() => void)[] | undefined;
  private readonly arrivals = new EventEmitter();
  private port = 0;
  readonly server: Server = createServer((req, res) => void this.handle(req, res));

  static async start(): Promise<FakeAws> {
    const fake = new FakeAws();
    fake.server.on('connection', (socket) => {
      fake.sockets.add(socket);
      socket.on('close', () => fake.sockets.delete(socket));
    });
    await fake.listen(0);
    return fake;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The environment that sends the SDK's ECR, ECR Public and STS calls here. */
  get env(): Record<string, string> {
    return { AWS_ENDPOINT_URL_ECR: this.url, AWS_ENDPOINT_URL_ECR_PUBLIC: this.url, AWS_ENDPOINT_URL_STS: this.url };
  }

  /** The environment of a workload on ECS/EKS (container credentials) or EC2 (instance metadata). */
  workloadEnv(kind: 'container' | 'instance'): Record<string, string> {
    return kind === 'container'
      ? {
          AWS_CONTAINER_CREDENTIALS_FULL_URI: `${this.url}${CONTAINER_CREDENTIALS_PATH}`,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: this.workload.containerAuthToken,
        }
      : { AWS_EC2_METADATA_DISABLED: 'false', AWS_EC2_METADATA_SERVICE_ENDPOINT: this.url };
  }

  /** The credential GetAuthorizationToken hands out (base64 `username:password`) and its lifetime. */
  setToken(token: Partial<Issued>): void {
    this.token = { ...this.token, ...token };
  }

  addKey(key: FakeAwsKey): void {
    this.keys.set(key.accessKeyId, key);
  }

  addRole(roleArn: string, role: FakeAwsRole = {}): void {
    this.roles.set(roleArn, role);
  }

  /** Answer the next `count` service calls with a 500 or a ThrottlingException. */
  fail(kind: FakeAwsFailure, count = Number.POSITIVE_INFINITY): void {
    this.failure = { kind, remaining: count };
  }

  /** Make token calls wait, already counted, until `release()`: shows which calls overlap. */
  hold(): void {
    this.held ??= [];
  }

  release(): void {
    const waiting = this.held ?? [];
    this.held = undefined;
    for (const go of waiting) go();
  }

  /** Resolves once `count(action)` has reached `n`. */
  async waitForCalls(action: string, n: number): Promise<void> {
    while (this.count(action) < n) await once(this.arrivals, 'request');
  }

  heal(): void {
    this.failure = undefined;
  }

  /** Stop listening and drop open connections: clients now get ECONNREFUSED on this port. */
  async refuseConnections(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const socket of this.sockets) socket.destroy();
    await closed;
  }

  /** Listen again on the same port after `refuseConnections`. */
  async acceptConnections(): Promise<void> {
    await this.listen(this.port);
  }

  /** How many calls of an action reached the fake (`GetAuthorizationToken`, `AssumeRole`…). */
  count(action: string, service?: FakeAwsRequest['service']): number {
    return this.requests.filter((r) => r.action === action && (service === undefined || r.service === service)).length;
  }

  /** A web identity token (RS256 JWT) this fake's STS accepts, like one an OIDC provider issues. */
  webIdentityToken(claims: { sub?: string; aud?: string; lifetimeSeconds?: number } = {}): string {
    return this.sts.webIdentityToken(claims);
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await this.refuseConnections();
  }

  private async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request: SignedRequest = {
      method: req.method ?? '',
      url: req.url ?? '/',
      headers: req.headers,
      body: Buffer.concat(chunks),
    };
    const path = new URL(request.url, 'http://fake').pathname;
    if (this.workload.handles(path)) {
      this.requests.push({ service: 'workload', action: this.workload.answer(req, res, path), outcome: 'ok' });
      return;
    }
    const target = String(req.headers['x-amz-target'] ?? '');
    if (target.startsWith(ECR_TARGET)) return this.answerJson(request, res, 'ecr', target.slice(ECR_TARGET.length));
    if (target.startsWith(ECR_PUBLIC_TARGET)) {
      return this.answerJson(request, res, 'ecr-public', target.slice(ECR_PUBLIC_TARGET.length));
    }
    return this.answerSts(request, res);
  }

  private takeFailure(): AwsHttpError | undefined {
    if (!this.failure || this.failure.remaining <= 0) return undefined;
    this.failure.remaining -= 1;
    return this.failure.kind === 'throttle'
      ? new AwsHttpError(400, 'ThrottlingException', 'Rate exceeded')
      : new AwsHttpError(500, 'ServerException', 'We encountered an internal error. Please try again.');
  }

  private async answerJson(request: SignedRequest, res: ServerResponse, service: 'ecr' | 'ecr-public', action: string): Promise<void> {
    const seen: FakeAwsRequest = { service, action, outcome: 'ok' };
    this.requests.push(seen);
    this.arrivals.emit('request');
    try {
      const { key, region } = authenticate(request, service, this.keys);
      seen.signingRegion = region;
      seen.principal = key.arn;
      const held = this.held;
      if (held) await new Promise<void>((go) => held.push(go));
      const failure = this.takeFailure();
      if (failure) throw failure;
      if (action !== 'GetAuthorizationToken') throw new AwsHttpError(400, 'UnknownOperationException', '');
      const body = JSON.parse(request.body.toString() || '{}') as { registryIds?: string[] };
      // AWS still honours the deprecated registryIds; the fake records them so tests can see none are sent.
      if (body.registryIds !== undefined) seen.registryIds = body.registryIds;
      const authorizationToken = Buffer.from(`${this.token.username}:${this.token.password}`).toString('base64');
      const expiresAt = Math.floor(Date.now() / 1000) + this.token.lifetimeSeconds;
      const account = key.arn.split(':')[4];
      const data =
        service === 'ecr'
          ? {
              authorizationData: [{ authorizationToken, expiresAt, proxyEndpoint: `https://${account}.dkr.ecr.${region}.amazonaws.com` }],
            }
          : { authorizationData: { authorizationToken, expiresAt } };
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': randomUUID() });
      res.end(JSON.stringify(data));
    } catch (err) {
      if (!(err instanceof AwsHttpError)) throw err;
      seen.outcome = err.code;
      res.writeHead(err.status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-errortype': err.code });
      res.end(JSON.stringify({ __type: err.code, message: err.message }));
    }
  }

  private answerSts(request: SignedRequest, res: ServerResponse): void {
    const params = new URLSearchParams(request.body.toString());
    const action = params.get('Action') ?? '';
    const seen: FakeAwsRequest = { service: 'sts', action, outcome: 'ok' };
    this.requests.push(seen);
    this.arrivals.emit('request');
    try {
      const failure = this.takeFailure();
      if (failure)
        throw new AwsHttpError(failure.status, failure.code === 'ThrottlingException' ? 'Throttling' : 'InternalFailure', failure.message);
      let result: string;
      if (action === 'AssumeRole') {
        const { key, region } = authenticate(request, 'sts', this.keys);
        seen.signingRegion = region;
        seen.principal = key.arn;
        result = this.sts.assumeRole(params, key);
      } else if (action === 'AssumeRoleWithWebIdentity') {
        seen.principal = params.get('RoleArn') ?? undefined;
        result = this.sts.assumeRoleWithWebIdentity(params);
      } else {
        throw new AwsHttpError(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`);
      }
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(stsResponse(action, result));
    } catch (err) {
      if (!(err instanceof AwsHttpError)) throw err;
      seen.outcome = err.code;
      res.writeHead(err.status, { 'content-type': 'text/xml' });
      res.end(stsErrorResponse(err));
    }
  }
}

/**
 * A clean AWS environment for a test: no AWS variable from the machine, `HOME` in `home` (so no
 * real ~/.aws is read), instance metadata off (nothing to wait for), the SDK's calls sent to `fake`,
 * then `vars`. The AWS SDK reads `process.env` itself, so tests apply the result to both the
 * process (vi.stubEnv) and the provider request.
 */
export function fakeAwsEnv(fake: FakeAws, home: string, vars: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of Object.keys(process.env)) {
    if (/^(AWS_|ECR_|HTTPS?_PROXY$|NO_PROXY$)/i.test(name)) env[name] = undefined;
  }
  return { ...env, HOME: home, AWS_EC2_METADATA_DISABLED: 'true', ...fake.env, ...vars };
}
