import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliSandbox, type CliSandbox } from './cli-harness.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
let cli: CliSandbox;
let configPath: string;

beforeEach(async () => {
  cli = await cliSandbox();
  configPath = join(cli.home, 'config', 'berth', 'config.json');
});
afterEach(() => cli.cleanup());

describe('berth registries', () => {
  it('adds to a config file, keeping its other fields, and lists without option values', async () => {
    await mkdir(join(cli.home, 'config', 'berth'), { recursive: true });
    await writeFile(configPath, '{\n  "store": "file",\n  "daemon": { "autoStart": true }\n}\n', { mode: 0o644 });
    let result = await cli.run(
      'registries',
      'add',
      'prod',
      '--provider',
      'ecr',
      '--host',
      ECR,
      '-o',
      'profile=prod',
      '-o',
      'fips=true',
      '-o',
      'account=012345678901',
    );
    expect(result).toMatchObject({ code: 0, stderr: '' });
    result = await cli.run(
      'registries',
      'add',
      'hub',
      '--provider',
      'static',
      '--host',
      'docker.io',
      '-o',
      'passwordFile=/run/secrets/hunter2',
      '--default',
    );
    expect(result.code).toBe(0);
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.store).toBe('file');
    expect(config.daemon).toEqual({ autoStart: true });
    expect(config.registries[0]).toEqual({
      name: 'prod',
      provider: 'ecr',
      host: ECR,
      options: { profile: 'prod', fips: true, account: '012345678901' },
    });
    expect((await stat(configPath)).mode & 0o777).toBe(0o644); // an existing file keeps its mode

    result = await cli.run('registries', 'list');
    expect(result.stdout).toMatch(
      /^NAME +PROVIDER +HOST +DETAILS\nprod +ecr +123456789012\S+ +options: profile, fips, account\nhub +static +docker\.io +default; options: passwordFile\n$/,
    );
    expect(result.stdout).not.toContain('hunter2');
  });

  it('creates a missing config file with mode 0600 and moves the default', async () => {
    await cli.run('registries', 'add', 'a', '--provider', 'static', '--host', 'a.example', '--default');
    await cli.run('registries', 'add', 'b', '--provider', 'static', '--host', 'b.example', '--default');
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.registries.map((r: { default?: boolean }) => r.default)).toEqual([undefined, true]);
    expect((await stat(configPath)).mode & 0o777).toBe(0o600);
  });

  it.each([
    [
      ['add', 'a', '--provider', 'nope', '--host', 'h'],
      /^berth: error: unknown provider "nope"\nberth: hint: use one of: ecr, ecr-public, google, azure, static\n$/,
    ],
    [
      ['add', 'x', '--provider', 'static', '--host', 'h', '--fallback', 'ghost'],
      /^berth: error: fallback "ghost" names no registry in .*config\.json\nberth: hint: add the fallback registry first\n$/,
    ],
    [['add', 'a', '--provider', 'static', '--host', 'h'], /registry "a" already exists/],
    [['add', 'b', '--provider', 'static', '--host', 'h', '-o', 'novalue'], /--option novalue: expected KEY=VALUE/],
    [
      ['add', 'm', '--provider', 'google', '--host', 'mirror.corp.example'],
      /^berth: error: google: mirror\.corp\.example is not a Google registry \([^\n]+\)\nberth: hint: [^\n]*allowAnyHost=true \(it sends this cloud's token to that host\)\n$/,
    ],
    [
      ['add', 'm', '--provider', 'azure', '--host', 'evilazurecr.io'],
      /^berth: error: azure: evilazurecr\.io is not an Azure container registry/,
    ],
    [['add', 'm', '--provider', 'ecr', '--host', 'ghcr.io'], /^berth: error: ecr: ghcr\.io is not an ECR registry\n$/],
    [
      ['add', 'm', '--provider', 'ecr', '--host', 'ghcr.io', '-o', 'allowAnyHost=true'],
      /^berth: error: ecr: ghcr\.io is not an ECR registry\n$/,
    ],
    [['remove', 'ghost'], /no registry named "ghost"/],
    [['remove', 'a'], /registry "a" is the fallback of "c"/],
  ])('refuses %j with one clear line and leaves the file alone', async (argv, message) => {
    await cli.run('registries', 'add', 'a', '--provider', 'static', '--host', 'a.example');
    await cli.run('registries', 'add', 'c', '--provider', 'static', '--host', 'c.example', '--fallback', 'a');
    const before = await readFile(configPath, 'utf8');
    const result = await cli.run('registries', ...argv);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it('adds a Google or Azure registry on another host only with allowAnyHost=true', async () => {
    for (const provider of ['google', 'azure']) {
      const result = await cli.run(
        'registries',
        'add',
        provider,
        '--provider',
        provider,
        '--host',
        'proxy.corp.example',
        '-o',
        'allowAnyHost=true',
      );
      expect(result).toMatchObject({ code: 0, stderr: '' });
    }
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.registries.map((r: { options?: unknown }) => r.options)).toEqual([{ allowAnyHost: true }, { allowAnyHost: true }]);
  });

  it('removes a registry', async () => {
    await cli.run('registries', 'add', 'a', '--provider', 'static', '--host', 'a.example');
    expect((await cli.run('registries', 'remove', 'a')).code).toBe(0);
    expect(JSON.parse(await readFile(configPath, 'utf8')).registries).toEqual([]);
    expect((await cli.run('registries', 'list')).stdout).toMatch(/^no registries configured in /);
  });

  it('test reports a provider failure with its reason and a non-zero exit', async () => {
    await cli.run('registries', 'add', 'broken', '--provider', 'static', '--host', 'r.example');
    const result = await cli.run('registries', 'test', 'broken');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^berth: error: no credentials for r\.example: broken \(static\): .+$/m);
  });
});
