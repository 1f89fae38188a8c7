import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveForHelper } from '../../../core/resolve/context.js';
import { NOT_FOUND_MESSAGE, NotFoundError } from '../../../core/errors.js';
import { argvFor } from '../../e2e/harness/build.js';
import { FakeAws, TEST_KEY } from '../../fakes/aws.js';
import { tempDir } from '../../fakes/temp.js';

let home: string;
let env: Record<string, string>;

beforeEach(async () => {
  home = await tempDir('berth-credentials-');
  env = {
    HOME: home,
    XDG_CONFIG_HOME: join(home, 'config'),
    XDG_DATA_HOME: join(home, 'data'),
    XDG_CACHE_HOME: join(home, 'cache'),
    BERTH_STORE: 'file',
  };
  // A configured registry whose provider cannot work: static with no user or password.
  const config = { registries: [{ name: 'broken', provider: 'static', host: 'r.example' }] };
  env.BERTH_CONFIG = join(home, 'berth.json');
  await writeFile(env.BERTH_CONFIG, JSON.stringify(config));
});

describe('resolveForHelper', () => {
  it('answers undefined for a host berth has no configuration for', async () => {
    expect(await resolveForHelper('ghcr.io', env, () => undefined)).toBeUndefined();
  });

  it('turns a provider failure into not-found that carries the reason', async () => {
    const error = await resolveForHelper('https://r.example', env, () => undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(NOT_FOUND_MESSAGE);
    expect(String((error as Error).cause)).toMatch(/no credentials for r\.example: broken \(static\): /);
  });
});

describe('docker-credential-berth get (built)', () => {
  function get(serverURL: string, extraEnv: Record<string, string> = {}) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const childEnv = { ...env, PATH: process.env.PATH ?? '', ...extraEnv };
      const child = execFile(...argvFor('helper', ['get']), { env: childEnv }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(serverURL);
    });
  }

  it('prints exactly the not-found text on a provider failure and says why on stderr, with the fix', async () => {
    const result = await get('r.example');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`${NOT_FOUND_MESSAGE}\n`);
    expect(result.stderr).toBe(
      'berth: error: no credentials for r.example: broken (static): username variable DOCKER_USERNAME is not set ' +
        '(hint: export DOCKER_USERNAME, or name another variable with the registry\'s "usernameEnv" option)\n',
    );
  });

  it('prints only the not-found text for a registry nobody configured', async () => {
    const result = await get('ghcr.io');
    expect(result).toEqual({ code: 1, stdout: `${NOT_FOUND_MESSAGE}\n`, stderr: '' });
  });
});

describe('docker-credential-berth get for an ECR registry (built, fake AWS)', () => {
  const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
  let aws: FakeAws;
  beforeEach(async () => {
    aws = await FakeAws.start();
  });
  afterEach(() => aws.close());

  function get(serverURL: string) {
    const awsEnv = {
      ...aws.env,
      AWS_ACCESS_KEY_ID: TEST_KEY.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_KEY.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const child = execFile(
        ...argvFor('helper', ['get']),
        { env: { ...env, PATH: process.env.PATH ?? '', ...awsEnv } },
        (err, stdout, stderr) => done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(serverURL);
    });
  }

  it('asks AWS once, then answers from its encrypted cache, with a clean stderr', async () => {
    const expected = `${JSON.stringify({ ServerURL: `https://${ECR_HOST}`, Username: 'AWS', Secret: 'fake-ecr-password' })}\n`;
    expect(await get(`https://${ECR_HOST}`)).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(await get(`https://${ECR_HOST}`)).toEqual({ code: 0, stdout: expected, stderr: '' });
    expect(aws.count('GetAuthorizationToken', 'ecr')).toBe(1);
  });

  it('on an AWS failure prints the not-found text, and the reason on stderr in one line', async () => {
    aws.fail('server-error');
    const result = await get(ECR_HOST);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`${NOT_FOUND_MESSAGE}\n`);
    // The host once, the provider once, AWS's own words: no `H: H (ecr): ecr: H:` echo.
    expect(result.stderr).toMatch(
      new RegExp(`^berth: error: no credentials for ${ECR_HOST.replace(/\./g, '\\.')}: ecr: [^\n]+\n(berth: hint: [^\n]+\n)?$`),
    );
    expect(result.stderr.split(ECR_HOST)).toHaveLength(2);
  });
});
