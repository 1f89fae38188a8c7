import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProviderError } from '../../../core/errors.js';
import { ecrCacheIdentity, ecrOwnRegistry, ecrProvider } from '../../../core/providers/ecr.js';
import { NotMyRegistryError } from '../../../core/providers/provider.js';
import { fakeAwsEnv, TEST_KEY } from '../../fakes/aws.js';
import { AWS_ENV_KEYS, useFakeAws } from '../../fakes/aws-session.js';

const HOST = '123456789012.dkr.ecr.us-west-2.amazonaws.com';
const ROLE = 'arn:aws:iam::123456789012:role/puller';

const aws = useFakeAws('berth-ecr-', HOST);
const request = aws.request;

async function failure(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('ecrProvider', () => {
  it('writes nothing to stderr in a fresh process, bundled as the helper is', async () => {
    const entry = join(aws.home, 'get-token.ts');
    const provider = resolve('core/providers/ecr.ts');
    await writeFile(
      entry,
      `import { ecrProvider } from ${JSON.stringify(provider)};\n` +
        `const c = await ecrProvider({ registryHost: process.argv[2], options: {}, env: process.env, now: Date.now });\n` +
        `process.stdout.write(c.username);\n`,
    );
    await build({
      entryPoints: [entry],
      outdir: join(aws.home, 'out'),
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      banner: { js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);" },
      logLevel: 'silent',
    });
    const env = Object.fromEntries(
      Object.entries(fakeAwsEnv(aws.fake, aws.home, AWS_ENV_KEYS)).filter(
        ([name, value]) => value !== undefined && !/^AWS_SDK_JS/.test(name),
      ),
    );
    const child = spawn(process.execPath, [join(aws.home, 'out', 'get-token.mjs'), HOST], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((done) => child.on('close', done));
    expect({ code, stdout, stderr }).toEqual({ code: 0, stdout: 'AWS', stderr: '' });
  });

  it('gets a token with environment credentials, signed for the region in the host', async () => {
    const before = Date.now();
    const credential = await ecrProvider(request(AWS_ENV_KEYS));
    expect(credential.username).toBe('AWS');
    expect(credential.secret).toBe('fake-ecr-password');
    const lifetime = credential.expiresAt!.getTime() - before;
    expect(lifetime).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(lifetime).toBeLessThan(12 * 3600_000 + 60_000);
    expect(aws.fake.requests).toEqual([
      {
        service: 'ecr',
        action: 'GetAuthorizationToken',
        signingRegion: 'us-west-2',
        principal: TEST_KEY.arn,
        outcome: 'ok',
      },
    ]);
  });

  it('returns the user and password the token carries, and its expiry', async () => {
    aws.fake.setToken({ username: 'ci-user', password: 'pa:ss:word', lifetimeSeconds: 20 });
    const credential = await ecrProvider(request(AWS_ENV_KEYS));
    expect(credential).toMatchObject({ username: 'ci-user', secret: 'pa:ss:word' });
    expect(Math.abs(credential.expiresAt!.getTime() - (Date.now() + 20_000))).toBeLessThan(5_000);
  });

  it('signs for a China region with a host in amazonaws.com.cn', async () => {
    await ecrProvider(request(AWS_ENV_KEYS, {}, '210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn'));
    expect(aws.fake.requests[0]?.signingRegion).toBe('cn-north-1');
  });

  it('uses the region option over the host', async () => {
    await ecrProvider(request(AWS_ENV_KEYS, { region: 'eu-central-1' }));
    expect(aws.fake.requests[0]?.signingRegion).toBe('eu-central-1');
  });

  it('reads a named profile from the shared credentials file', async () => {
    const credentials = join(aws.home, 'credentials');
    await writeFile(
      credentials,
      `[dev]\naws_access_key_id = ${TEST_KEY.accessKeyId}\naws_secret_access_key = ${TEST_KEY.secretAccessKey}\n`,
    );
    const req = request({ AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: join(aws.home, 'config') }, { profile: 'dev' });
    await expect(ecrProvider(req)).resolves.toMatchObject({ username: 'AWS' });
    expect(aws.fake.requests[0]).toMatchObject({ principal: TEST_KEY.arn, outcome: 'ok' });
  });

  it('follows a profile that assumes a role from a source profile', async () => {
    aws.fake.addRole(ROLE);
    const credentials = join(aws.home, 'credentials');
    const config = join(aws.home, 'config');
    await writeFile(
      credentials,
      `[base]\naws_access_key_id = ${TEST_KEY.accessKeyId}\naws_secret_access_key = ${TEST_KEY.secretAccessKey}\n`,
    );
    await writeFile(config, `[profile pull]\nrole_arn = ${ROLE}\nsource_profile = base\nregion = us-west-2\n`);
    await ecrProvider(request({ AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_CONFIG_FILE: config, AWS_PROFILE: 'pull' }));
    expect(aws.fake.count('AssumeRole')).toBe(1);
    expect(aws.fake.requests.at(-1)).toMatchObject({
      service: 'ecr',
      principal: expect.stringMatching(/^arn:aws:sts::123456789012:assumed-role\/puller\//),
    });
  });

  it('names a missing profile in one line', async () => {
    const req = request(
      { AWS_SHARED_CREDENTIALS_FILE: join(aws.home, 'none'), AWS_CONFIG_FILE: join(aws.home, 'none') },
      { profile: 'nope' },
    );
    const err = await failure(ecrProvider(req));
    expect(err.message).toMatch(new RegExp(`^ecr: ${HOST.replaceAll('.', '\\.')}: no usable AWS credentials: `));
    expect(err.message).not.toContain('\n');
    expect(err.hint).toContain('profile "nope"');
    expect(aws.fake.requests).toEqual([]);
  });

  it('says in one line that no credentials were found, and where it looked', async () => {
    const err = await failure(ecrProvider(request({})));
    expect(err.message).toMatch(new RegExp(`^ecr: ${HOST.replaceAll('.', '\\.')}: no usable AWS credentials: `));
    expect(err.hint).toContain('AWS_ACCESS_KEY_ID');
    expect(aws.fake.requests).toEqual([]);
  });

  it('gets credentials from a web identity token through STS', async () => {
    aws.fake.addRole(ROLE);
    const tokenFile = join(aws.home, 'token');
    await writeFile(tokenFile, aws.fake.webIdentityToken());
    await ecrProvider(request({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE, AWS_ROLE_SESSION_NAME: 'ci' }));
    expect(aws.fake.count('AssumeRoleWithWebIdentity')).toBe(1);
    expect(aws.fake.requests.at(-1)).toMatchObject({
      service: 'ecr',
      principal: 'arn:aws:sts::123456789012:assumed-role/puller/ci',
      outcome: 'ok',
    });
  });

  it('gets credentials from the container credentials endpoint (ECS, EKS Pod Identity)', async () => {
    await ecrProvider(request(aws.fake.workloadEnv('container')));
    expect(aws.fake.count('ContainerCredentials')).toBe(1);
    expect(aws.fake.requests.at(-1)).toMatchObject({ service: 'ecr', principal: aws.fake.workload.sessionArn, outcome: 'ok' });
  });

  it('gets credentials from instance metadata with an IMDSv2 session token', async () => {
    await ecrProvider(request(aws.fake.workloadEnv('instance')));
    expect(aws.fake.count('ImdsToken')).toBe(1);
    expect(aws.fake.count('ImdsCredentials')).toBe(1);
    expect(aws.fake.requests.at(-1)).toMatchObject({ service: 'ecr', principal: aws.fake.workload.sessionArn, outcome: 'ok' });
  });

  it('refuses a web identity token the identity provider did not sign', async () => {
    aws.fake.addRole(ROLE);
    const tokenFile = join(aws.home, 'token');
    const [header, payload] = aws.fake.webIdentityToken().split('.');
    await writeFile(tokenFile, `${header}.${payload}.${Buffer.from('forged').toString('base64url')}`);
    const err = await failure(ecrProvider(request({ AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile, AWS_ROLE_ARN: ROLE })));
    expect(err.message).toContain('InvalidIdentityToken');
    expect(aws.fake.count('GetAuthorizationToken')).toBe(0);
  });

  it('assumes the role named in the options, with its external id', async () => {
    aws.fake.addRole(ROLE, { externalId: 'ext-42' });
    await ecrProvider(request(AWS_ENV_KEYS, { roleArn: ROLE, externalId: 'ext-42', roleSessionName: 'nightly' }));
    expect(aws.fake.requests.map((r) => [r.service, r.action, r.principal])).toEqual([
      ['sts', 'AssumeRole', TEST_KEY.arn],
      ['ecr', 'GetAuthorizationToken', 'arn:aws:sts::123456789012:assumed-role/puller/nightly'],
    ]);
  });

  it('reports a refused role assumption in one line naming the role', async () => {
    aws.fake.addRole(ROLE, { externalId: 'ext-42' });
    const err = await failure(ecrProvider(request(AWS_ENV_KEYS, { roleArn: ROLE, externalId: 'wrong' })));
    expect(err.message).toBe(
      `ecr: ${HOST}: assuming role ${ROLE}: AccessDenied: User: ${TEST_KEY.arn} is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
    );
    expect(err.hint).toContain('trust policy');
  });

  it('builds the role from AWS_STS_ROLE and AWS_STS_ACCOUNT, as the Codeship generator did', async () => {
    const role = 'arn:aws:iam::210987654321:role/deployer';
    aws.fake.addRole(role);
    await ecrProvider(request({ ...AWS_ENV_KEYS, AWS_STS_ROLE: 'deployer', AWS_STS_ACCOUNT: '210987654321' }));
    expect(aws.fake.requests.at(-1)?.principal).toMatch(/^arn:aws:sts::210987654321:assumed-role\/deployer\//);
  });

  it('reports a wrong secret in one line naming the registry and the AWS error', async () => {
    const err = await failure(ecrProvider(request({ ...AWS_ENV_KEYS, AWS_SECRET_ACCESS_KEY: 'not-the-secret' })));
    expect(err.message).toBe(
      `ecr: ${HOST}: InvalidSignatureException: The request signature we calculated does not match the signature you provided. ` +
        'Check your AWS Secret Access Key and signing method. Consult the service documentation for details',
    );
    expect(err.hint).toContain('AWS_ACCESS_KEY_ID');
    expect(err.message).not.toContain('not-the-secret');
  });

  it('reports an unknown access key as AWS names it', async () => {
    const err = await failure(ecrProvider(request({ ...AWS_ENV_KEYS, AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000000' })));
    expect(err.message).toBe(`ecr: ${HOST}: UnrecognizedClientException: The security token included in the request is invalid`);
  });

  it('reports an unreachable endpoint with a network hint', async () => {
    const req = request(AWS_ENV_KEYS);
    await aws.fake.refuseConnections();
    const err = await failure(ecrProvider(req));
    expect(err.message).toMatch(new RegExp(`^ecr: ${HOST.replaceAll('.', '\\.')}: .*ECONNREFUSED`));
    expect(err.hint).toContain('HTTPS_PROXY');
  });

  it('reports a server error after the SDK retries', async () => {
    aws.fake.fail('server-error');
    const err = await failure(ecrProvider(request(AWS_ENV_KEYS)));
    expect(err.message).toBe(`ecr: ${HOST}: ServerException: We encountered an internal error. Please try again`);
    expect(aws.fake.count('GetAuthorizationToken')).toBeGreaterThan(1);
  });

  it('recovers when a throttled call is retried', async () => {
    aws.fake.fail('throttle', 1);
    await expect(ecrProvider(request(AWS_ENV_KEYS))).resolves.toMatchObject({ secret: 'fake-ecr-password' });
    expect(aws.fake.requests.map((r) => r.outcome)).toEqual(['ThrottlingException', 'ok']);
  });

  it('leaves hosts that are not ECR to the next provider', async () => {
    await expect(ecrProvider(request(AWS_ENV_KEYS, {}, `${HOST}.evil.example`))).rejects.toBeInstanceOf(NotMyRegistryError);
    await expect(ecrProvider(request(AWS_ENV_KEYS, {}, 'public.ecr.aws'))).rejects.toBeInstanceOf(NotMyRegistryError);
    expect(aws.fake.requests).toEqual([]);
  });

  it('rejects an unknown option by name', async () => {
    const err = await failure(ecrProvider(request(AWS_ENV_KEYS, { rolearn: ROLE })));
    expect(err.message).toBe(`ecr: ${HOST}: bad option "rolearn"`);
    expect(err.hint).toContain('roleArn');
  });
});

describe('ecrProvider behind a proxy', () => {
  let proxy: Server;
  let tunnels: string[];

  beforeEach(async () => {
    tunnels = [];
    proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, client, head) => {
      tunnels.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      // Only the aws.fake is reachable; AWS's own hosts are refused, after the proxy saw where the SDK went.
      if (host !== '127.0.0.1') return void client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      const upstream = connect(Number(port), host, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(client).on('error', () => client.destroy());
        client.pipe(upstream).on('error', () => upstream.destroy());
      });
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  });

  afterEach(async () => {
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  });

  const proxyURL = () => `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

  it('sends ECR and STS calls through the proxy', async () => {
    aws.fake.addRole(ROLE);
    await ecrProvider(request({ ...AWS_ENV_KEYS, HTTP_PROXY: proxyURL() }, { roleArn: ROLE }));
    expect(aws.fake.requests.map((r) => r.outcome)).toEqual(['ok', 'ok']);
    expect(tunnels.length).toBeGreaterThanOrEqual(1);
    expect(new Set(tunnels)).toEqual(new Set([new URL(aws.fake.url).host]));
  });

  it.each([
    [HOST, 'api.ecr.us-west-2.amazonaws.com:443'],
    ['210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn', 'api.ecr.cn-north-1.amazonaws.com.cn:443'],
    ['123456789012.dkr.ecr-fips.us-east-1.amazonaws.com', 'api.ecr-fips.us-east-1.amazonaws.com:443'],
    ['123456789012.dkr-ecr.us-east-1.on.aws', 'ecr.us-east-1.api.aws:443'],
    ['123456789012.dkr-ecr-fips.us-east-1.on.aws', 'ecr-fips.us-east-1.api.aws:443'],
  ])('asks for the token of %s at AWS endpoint %s through HTTPS_PROXY', async (registryHost, endpoint) => {
    const noEndpoint = { AWS_ENDPOINT_URL_ECR: '', AWS_ENDPOINT_URL_STS: '' };
    const req = request({ ...AWS_ENV_KEYS, ...noEndpoint, HTTPS_PROXY: proxyURL() }, {}, registryHost);
    const err = await failure(ecrProvider(req));
    expect(err.message).toBe(`ecr: ${registryHost}: HTTP 403 without an AWS error`);
    expect(err.hint).toContain('HTTPS_PROXY');
    expect(new Set(tunnels)).toEqual(new Set([endpoint]));
  });

  it('goes direct to hosts in NO_PROXY', async () => {
    await ecrProvider(request({ ...AWS_ENV_KEYS, HTTP_PROXY: proxyURL(), NO_PROXY: 'localhost,127.0.0.1' }));
    expect(aws.fake.count('GetAuthorizationToken')).toBe(1);
    expect(tunnels).toEqual([]);
  });
});

describe('ecrCacheIdentity', () => {
  it('keys by registry and who asks, never by access key id', () => {
    const plain = ecrCacheIdentity(request(AWS_ENV_KEYS));
    expect(plain).toBe(`ecr:${HOST};region=us-west-2`);
    expect(ecrCacheIdentity(request({ ...AWS_ENV_KEYS, AWS_ACCESS_KEY_ID: 'AKIAROTATED000000000' }))).toBe(plain);
    expect(ecrCacheIdentity(request(AWS_ENV_KEYS, { profile: 'dev' }))).toBe(`ecr:${HOST};region=us-west-2;profile=dev`);
    expect(ecrCacheIdentity(request({ ...AWS_ENV_KEYS, AWS_PROFILE: 'dev' }))).toBe(`ecr:${HOST};region=us-west-2;profile=dev`);
    expect(ecrCacheIdentity(request(AWS_ENV_KEYS, { roleArn: ROLE, externalId: 'x' }))).toBe(
      `ecr:${HOST};region=us-west-2;role=${ROLE};externalId=x`,
    );
    expect(ecrCacheIdentity(request({ ...AWS_ENV_KEYS, AWS_STS_ROLE: 'deployer' }))).toContain(
      'role=arn:aws:iam::123456789012:role/deployer',
    );
    expect(plain).not.toContain(TEST_KEY.accessKeyId);
  });
});

describe('ecrOwnRegistry (Codeship: only a region and keys)', () => {
  it("asks GetAuthorizationToken without registry ids and takes the caller's registry from proxyEndpoint", async () => {
    const own = await ecrOwnRegistry(request(AWS_ENV_KEYS), 'eu-central-1');
    expect(own.registryHost).toBe('123456789012.dkr.ecr.eu-central-1.amazonaws.com');
    expect(own.credential).toMatchObject({ username: 'AWS', secret: 'fake-ecr-password' });
    expect(aws.fake.requests).toEqual([expect.objectContaining({ action: 'GetAuthorizationToken', signingRegion: 'eu-central-1' })]);
    expect(aws.fake.requests[0]?.registryIds).toBeUndefined();
  });

  it('with AWS_STS_ROLE and AWS_STS_ACCOUNT: the role is assumed first, and its account is the registry', async () => {
    aws.fake.addRole('arn:aws:iam::210987654321:role/pull');
    const own = await ecrOwnRegistry(request({ ...AWS_ENV_KEYS, AWS_STS_ROLE: 'pull', AWS_STS_ACCOUNT: '210987654321' }), 'us-east-1');
    expect(own.registryHost).toBe('210987654321.dkr.ecr.us-east-1.amazonaws.com');
    expect(aws.fake.count('AssumeRole')).toBe(1);
  });

  it('refused keys: one line naming what was asked', async () => {
    const err = await failure(ecrOwnRegistry(request({ ...AWS_ENV_KEYS, AWS_SECRET_ACCESS_KEY: 'wrong' }), 'us-east-1'));
    expect(err.message).toMatch(/^ecr: the caller's own registry in us-east-1: /);
  });
});
