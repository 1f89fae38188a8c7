import { readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cliHome, runScript, type CliHome } from '../../e2e/harness/cli.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
let cli: CliHome;
let configPath: string;

beforeEach(async () => {
  cli = await cliHome();
  configPath = cli.configPath;
});

describe('berth registries', () => {
  it('adds to a config file, keeping its other fields, and lists without option values', async () => {
    await mkdir(dirname(cli.configPath), { recursive: true });
    await writeFile(configPath, '{\n  "store": "file",\n  "daemon": { "autoStart": true }\n}\n', { mode: 0o644 });
    let result = await cli.berth([
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
      'roleSessionName=ci',
      '-o',
      'externalId=012345678901',
    ]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    result = await cli.berth([
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
    ]);
    expect(result.code).toBe(0);
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.store).toBe('file');
    expect(config.daemon).toEqual({ autoStart: true });
    expect(config.registries[0]).toEqual({
      name: 'prod',
      provider: 'ecr',
      host: ECR,
      options: { profile: 'prod', roleSessionName: 'ci', externalId: '012345678901' },
    });
    expect((await stat(configPath)).mode & 0o777).toBe(0o644); // an existing file keeps its mode

    result = await cli.berth(['registries', 'list']);
    expect(result.stdout).toMatch(
      /^NAME +PROVIDER +HOST +DETAILS\nprod +ecr +123456789012\S+ +options: profile, roleSessionName, externalId\nhub +static +docker\.io +default; options: passwordFile\n$/,
    );
    expect(result.stdout).not.toContain('hunter2');
  });

  it('creates a missing config file with mode 0600 and moves the default', async () => {
    await cli.berth(['registries', 'add', 'a', '--provider', 'static', '--host', 'a.example', '--default']);
    await cli.berth(['registries', 'add', 'b', '--provider', 'static', '--host', 'b.example', '--default']);
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
    await cli.berth(['registries', 'add', 'a', '--provider', 'static', '--host', 'a.example']);
    await cli.berth(['registries', 'add', 'c', '--provider', 'static', '--host', 'c.example', '--fallback', 'a']);
    const before = await readFile(configPath, 'utf8');
    const result = await cli.berth(['registries', ...argv]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(await readFile(configPath, 'utf8')).toBe(before);
  });

  it.each([
    [
      ['-o', 'profle=prod'],
      /^berth: error: ecr has no option "profle" \(did you mean "profile"\?\)\nberth: hint: ecr takes: profile, roleArn, externalId, roleSessionName, region\n$/,
    ],
    [
      ['--provider', 'static', '--host', 'ghcr.io', '-o', 'usernameenv=A'],
      /^berth: error: static has no option "usernameenv" \(did you mean "usernameEnv"\?\)\n/,
    ],
    [['--host', 'ghcr.io'], /^berth: error: ecr: ghcr\.io is not an ECR registry\n$/],
    [
      ['--provider', 'static', '--host', 'ghcr.io', '-o', 'password=hunter2'],
      /^berth: error: option "password" would keep a secret in the config file; berth refuses it\nberth: hint: name the variable with passwordEnv, or the file with passwordFile\n$/,
    ],
    [
      ['--provider', 'static', '--host', 'ghcr.io', '-o', 'passwordEnv=ghp_0123456789abcdefghij0123456789abcdef'],
      /would keep a secret in the config file/,
    ],
    [['--provider', 'static', '--host', 'ghcr.io', '-o', 'passwordEnv=my token'], /"my token" is not a variable name/],
    [['--provider', 'google', '--host', 'gcr.io', '-o', 'allowAnyHost=yes'], /option "allowAnyHost" of google is true or false, not "yes"/],
    [['-o', 'allowAnyHost=true'], /^berth: error: ecr has no option "allowAnyHost"\n/],
  ])('add %j is refused with exit 2, and nothing is written', async (argv, message) => {
    const result = await cli.berth(['registries', 'add', 'r', '--provider', 'ecr', '--host', ECR, ...argv]);
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toContain('hunter2');
    await expect(stat(configPath)).rejects.toThrow(/ENOENT/);
  });

  it("add accepts a proxy host for a cloud provider with allowAnyHost, and --help lists every provider's options", async () => {
    const added = await cli.berth([
      'registries',
      'add',
      'p',
      '--provider',
      'google',
      '--host',
      'gcr-proxy.internal',
      '-o',
      'allowAnyHost=true',
    ]);
    expect(added.code).toBe(0);
    expect(JSON.parse(await readFile(configPath, 'utf8')).registries[0].options).toEqual({ allowAnyHost: true });
    const help = await cli.berth(['registries', 'add', '--help']);
    for (const option of [
      'profile',
      'roleArn',
      'region',
      'keyFile',
      'tenantId',
      'clientId',
      'usernameEnv',
      'passwordEnv',
      'passwordFile',
    ]) {
      expect(help.stdout).toMatch(new RegExp(`^ +-o ${option}=…  +\\S`, 'm'));
    }
    expect(help.stdout).toMatch(/^ {2}static: any registry$/m);
  });

  it('list --json gives option names, never values', async () => {
    await cli.berth(['registries', 'add', 'hub', '--provider', 'static', '--host', 'docker.io', '-o', 'passwordFile=/run/secrets/hub']);
    const result = await cli.berth(['registries', 'list', '--json']);
    expect(JSON.parse(result.stdout)).toEqual([{ name: 'hub', provider: 'static', host: 'docker.io', options: ['passwordFile'] }]);
    expect(result.stdout).not.toContain('/run/secrets');
  });

  it('skips a bad entry with one warning naming its line; the other entries still work', async () => {
    await mkdir(dirname(configPath), { recursive: true });
    const entries = [
      { name: 'typo', provider: 'statc', host: 'quay.io' },
      { name: 'hub', provider: 'static', host: 'docker.io' },
    ];
    await writeFile(configPath, `${JSON.stringify({ registries: entries }, null, 2)}\n`);
    const result = await cli.berth(['registries', 'list']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^hub +static +docker\.io/m);
    expect(result.stdout).not.toContain('typo');
    expect(result.stderr).toMatch(
      /^berth: warning: .*config\.json:5:\d+: registries\[0\]\.provider: .*"statc"; the entry "typo" is skipped\n$/,
    );
  });

  it('adds a Google or Azure registry on another host only with allowAnyHost=true', async () => {
    for (const provider of ['google', 'azure']) {
      const result = await cli.berth([
        'registries',
        'add',
        provider,
        '--provider',
        provider,
        '--host',
        'proxy.corp.example',
        '-o',
        'allowAnyHost=true',
      ]);
      expect(result).toMatchObject({ code: 0, stderr: '' });
    }
    const config = JSON.parse(await readFile(configPath, 'utf8'));
    expect(config.registries.map((r: { options?: unknown }) => r.options)).toEqual([{ allowAnyHost: true }, { allowAnyHost: true }]);
  });

  it('removes a registry', async () => {
    await runScript(cli, [
      {
        args: ['registries', 'add', 'a', '--provider', 'static', '--host', 'a.example'],
        stdout: /^added registry a \(static, a\.example\) to .*config\.json\n$/,
        stderr: '',
      },
      { args: ['registries', 'remove', 'a'], stderr: '' },
      { args: ['registries', 'list'], stdout: /^no registries configured in / },
    ]);
    expect(JSON.parse(await readFile(cli.configPath, 'utf8')).registries).toEqual([]);
  });

  it('test reports a provider failure with its reason and a non-zero exit', async () => {
    await runScript(cli, [
      { args: ['registries', 'add', 'broken', '--provider', 'static', '--host', 'r.example'] },
      {
        args: ['registries', 'test', 'broken'],
        code: 1,
        stdout: '',
        stderr: /^berth: error: no credentials for r\.example: broken \(static\): .+$/m,
      },
    ]);
  });
});
