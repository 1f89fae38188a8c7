import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../fakes/temp.js';

import { argvFor } from '../e2e/harness/build.js';
let dir: string;

beforeEach(async () => {
  dir = await tempDir('berth-generator-');
});

function generate(args: string[], env: Record<string, string>) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(...argvFor('generate', args), { env: { HOME: dir, PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) =>
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('berth-generate (built)', () => {
  it.each([
    [{ BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u' }, 'DOCKER_PASSWORD'],
    [{ BERTH_PROVIDER: 'ecr', AWS_ACCOUNT_ID: '123456789012' }, 'AWS_REGION'],
    [{ BERTH_PROVIDER: 'azure' }, 'BERTH_REGISTRIES'],
    [{ BERTH_PROVIDER: 'ecr', AWS_ACCESS_KEY_ID: 'AKIA', AWS_SECRET_ACCESS_KEY: 's' }, 'AWS_REGION'],
    [{ BERTH_PROVIDER: 'ecr', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIA' }, 'AWS_SECRET_ACCESS_KEY'],
    [{ BERTH_PROVIDER: 'google', GOOGLE_AUTH_JSON: '{}', GOOGLE_AUTH_EMAIL: 'a@b' }, 'GOOGLE_PROJECT_ID'],
  ])('a missing variable: exit 2 (usage), one line naming it, no file (%o)', async (env, variable) => {
    const result = await generate([join(dir, 'dockercfg')], env);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`^berth: error: ${variable} is not set: [^\\n]+\\n$`));
    expect(await readdir(dir)).toEqual([]);
  });

  it.each([
    [{ BERTH_PROVIDER: 'google', BERTH_REGISTRIES: 'registry.evil.example' }, 'google: registry.evil.example is not a Google registry'],
    [
      { BERTH_PROVIDER: 'azure', BERTH_REGISTRIES: 'registry.evil.example' },
      'azure: registry.evil.example is not an Azure container registry',
    ],
    [{ BERTH_PROVIDER: 'google', BERTH_REGISTRIES: 'gcr.io.evil.example' }, 'google: gcr.io.evil.example is not a Google registry'],
  ])("refuses to send a cloud token to a host that is not the cloud's (%o)", async (env, message) => {
    const result = await generate([join(dir, 'dockercfg')], { ...env, GCE_METADATA_HOST: '127.0.0.1:9', GOOGLE_AUTH_JSON: '{}' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes through /dev/null and leaves it a device', async () => {
    const result = await generate(['/dev/null'], { BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p' });
    expect(result.code).toBe(0);
    const { stat } = await import('node:fs/promises');
    expect((await stat('/dev/null')).isCharacterDevice()).toBe(true);
  });

  it('wants exactly one argument, the output path', async () => {
    for (const args of [[], ['a', 'b'], ['--help']]) {
      const result = await generate(args, { BERTH_PROVIDER: 'static' });
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        'berth: error: expected one argument: the path to write, or - for stdout\n' +
          'berth: hint: usage: berth-generate OUTPUT_PATH|- (settings come from environment variables)\n',
      );
    }
  });

  it('a bad Secret name: the error and its fix, in the same words as the CLI', async () => {
    const env = { BERTH_PROVIDER: 'static', DOCKER_USERNAME: 'u', DOCKER_PASSWORD: 'p', BERTH_FORMAT: 'k8s-secret' };
    const result = await generate([join(dir, 'secret.json')], { ...env, BERTH_SECRET_NAME: 'Not_Valid' });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /^berth: error: [^\n]*Not_Valid[^\n]*\nberth: hint: use lower-case letters, digits, "-" and "." [^\n]+\n$/m,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
