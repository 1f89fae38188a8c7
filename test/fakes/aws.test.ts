// The fake must refuse what AWS refuses, or provider tests prove nothing: sign requests with the
// SDK's own signer and check that tampering, a wrong scope and a wrong key are each caught.
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeAws, TEST_KEY } from './aws.js';

function toBytes(data: string | ArrayBuffer | ArrayBufferView): string | Uint8Array {
  if (typeof data === 'string') return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** The hash interface the signer takes, over node:crypto (HMAC when given a secret). */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', toBytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
}

let fake: FakeAws;
beforeEach(async () => {
  fake = await FakeAws.start();
});
afterEach(async () => {
  await fake.close();
});

async function call(opts: { target: string; service: string; region: string; secret?: string; tamper?: boolean }) {
  const url = new URL(fake.url);
  const body = '{}';
  const signer = new SignatureV4({
    service: opts.service,
    region: opts.region,
    sha256: Sha256,
    credentials: { accessKeyId: TEST_KEY.accessKeyId, secretAccessKey: opts.secret ?? TEST_KEY.secretAccessKey },
  });
  const signed = await signer.sign({
    method: 'POST',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: '/',
    headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': opts.target },
    body,
  });
  const response = await fetch(fake.url, {
    method: 'POST',
    headers: signed.headers,
    body: opts.tamper ? '{"registryIds":["1"]}' : body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

const ECR = 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken';
const PUBLIC = 'SpencerFrontendService.GetAuthorizationToken';

describe('FakeAws', () => {
  it('answers a correctly signed call with a token', async () => {
    const answer = await call({ target: ECR, service: 'ecr', region: 'eu-west-1' });
    expect(answer.status).toBe(200);
    expect(answer.body.authorizationData).toEqual([
      expect.objectContaining({ proxyEndpoint: 'https://123456789012.dkr.ecr.eu-west-1.amazonaws.com' }),
    ]);
  });

  it('refuses a body changed after signing', async () => {
    const answer = await call({ target: ECR, service: 'ecr', region: 'eu-west-1', tamper: true });
    expect(answer).toMatchObject({ status: 400, body: { __type: 'InvalidSignatureException' } });
  });

  it('refuses a signature made with another secret', async () => {
    const answer = await call({ target: ECR, service: 'ecr', region: 'eu-west-1', secret: 'other' });
    expect(answer).toMatchObject({ status: 400, body: { __type: 'InvalidSignatureException' } });
  });

  it('refuses a signature scoped to another service', async () => {
    const answer = await call({ target: ECR, service: 'sts', region: 'eu-west-1' });
    expect(answer.body).toEqual({
      __type: 'InvalidSignatureException',
      message: "Credential should be scoped to correct service: 'ecr'. ",
    });
  });

  it('refuses ECR Public calls signed outside us-east-1', async () => {
    expect((await call({ target: PUBLIC, service: 'ecr-public', region: 'us-east-1' })).status).toBe(200);
    const answer = await call({ target: PUBLIC, service: 'ecr-public', region: 'us-west-2' });
    expect(answer.body).toEqual({
      __type: 'InvalidSignatureException',
      message: 'Credential should be scoped to a valid region. ',
    });
  });

  it('refuses an unsigned call', async () => {
    const response = await fetch(fake.url, { method: 'POST', headers: { 'x-amz-target': ECR }, body: '{}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });
  });

  it('counts calls and refuses connections on request', async () => {
    await call({ target: ECR, service: 'ecr', region: 'us-east-1' });
    expect(fake.count('GetAuthorizationToken', 'ecr')).toBe(1);
    await fake.refuseConnections();
    await expect(fetch(fake.url, { method: 'POST' })).rejects.toThrow();
    await fake.acceptConnections();
    expect((await call({ target: ECR, service: 'ecr', region: 'us-east-1' })).status).toBe(200);
    expect(fake.count('GetAuthorizationToken')).toBe(2);
  });

  it('holds token calls until released, counting them on arrival', async () => {
    fake.hold();
    const calls = [1, 2].map(() => call({ target: ECR, service: 'ecr', region: 'us-east-1' }));
    await fake.waitForCalls('GetAuthorizationToken', 2);
    fake.release();
    expect((await Promise.all(calls)).map((answer) => answer.status)).toEqual([200, 200]);
  });

  it('fails a given number of calls as asked', async () => {
    fake.fail('throttle', 1);
    expect((await call({ target: ECR, service: 'ecr', region: 'us-east-1' })).body).toMatchObject({
      __type: 'ThrottlingException',
    });
    expect((await call({ target: ECR, service: 'ecr', region: 'us-east-1' })).status).toBe(200);
    fake.fail('server-error');
    expect((await call({ target: ECR, service: 'ecr', region: 'us-east-1' })).status).toBe(500);
    fake.heal();
    expect((await call({ target: ECR, service: 'ecr', region: 'us-east-1' })).status).toBe(200);
  });

  it('refuses a temporary key after it expires', async () => {
    fake.addKey({ ...TEST_KEY, expiresAt: Date.now() - 1 });
    expect((await call({ target: ECR, service: 'ecr', region: 'us-east-1' })).body).toMatchObject({
      __type: 'ExpiredTokenException',
    });
  });
});
