import { access, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { startDaemon } from '../../../daemon/main.js';
import { cliHome, type CliHome } from '../../e2e/harness/cli.js';

let cli: CliHome;

beforeEach(async () => {
  cli = await cliHome();
  await mkdir(dirname(cli.configPath), { recursive: true });
  const registries = [{ name: 'broken', provider: 'static', host: 'r.example' }];
  await writeFile(cli.configPath, JSON.stringify({ registries }));
});

describe('berth generate', () => {
  it.each([
    [
      ['out.json', '--registry', 'ghost'],
      /^berth: error: no registry named "ghost" and it is not a recognised cloud registry host\nberth: hint: configured registries: broken\n$/,
    ],
    [
      ['out.json', '--format', 'yaml'],
      /argument 'yaml' is invalid\. Allowed choices are config, dockercfg, k8s-secret, k8s-dockercfg-secret/,
    ],
    [['out.json', '--format', 'k8s-secret', '--secret-name', 'Bad_Name'], /"Bad_Name" is not a valid Kubernetes secret name/],
    [['out.json'], /^berth: error: no credentials for r\.example: broken \(static\): /m],
  ])('%j fails with one clear line and writes no file', async (argv, message) => {
    const result = await cli.berth(['generate', ...argv]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
    await expect(access(join(cli.dir, 'out.json'))).rejects.toThrow(/ENOENT/);
  });

  it('says how to configure a registry when none is', async () => {
    await writeFile(cli.configPath, '{}');
    const result = await cli.berth(['generate', 'out.json']);
    expect(result.stderr).toMatch(/^berth: error: no registries configured\nberth: hint: add one with `berth registries add/);
  });
});

describe('berth generate with static credentials', () => {
  it('writes a 0600 Kubernetes Secret and reports progress without the secret', async () => {
    const sandbox = await cliHome({ HUB_USER: 'octocat', HUB_TOKEN: 'dckr_pat_secret123' });
    const registries = [
      { name: 'hub', provider: 'static', host: 'docker.io', options: { usernameEnv: 'HUB_USER', passwordEnv: 'HUB_TOKEN' } },
    ];
    await mkdir(dirname(sandbox.configPath), { recursive: true });
    await writeFile(sandbox.configPath, JSON.stringify({ registries }));
    const result = await sandbox.berth([
      'generate',
      'out/pull.json',
      '--format',
      'k8s-secret',
      '--secret-name',
      'hub-pull',
      '--namespace',
      'ci',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/^berth: hub: https:\/\/index\.docker\.io\/v1\/ as octocat via static, does not expire$/m);
    expect(result.stderr).toMatch(/^berth: wrote .*out\/pull\.json \(k8s-secret, 1 registry\)$/m);
    expect(result.stderr).not.toContain('dckr_pat_secret123');
    const file = join(sandbox.dir, 'out', 'pull.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const secret = JSON.parse(await readFile(file, 'utf8'));
    expect(secret.metadata).toEqual({ name: 'hub-pull', namespace: 'ci' });
    const config = JSON.parse(Buffer.from(secret.data['.dockerconfigjson'], 'base64').toString());
    expect(config).toEqual({
      auths: { 'https://index.docker.io/v1/': { auth: Buffer.from('octocat:dckr_pat_secret123').toString('base64') } },
    });
  });
});

describe('berth generate with a running daemon', () => {
  it("writes the daemon's token where resolving directly would fail, and says so", async () => {
    const sandbox = await cliHome({ BERTH_DAEMON_TIMEOUT_MS: '30000' }); // a loaded machine
    await mkdir(dirname(sandbox.configPath), { recursive: true });
    // a static registry with no DOCKER_USERNAME/DOCKER_PASSWORD: only the daemon can answer for it
    await writeFile(sandbox.configPath, JSON.stringify({ registries: [{ name: 'ci', provider: 'static', host: 'r.example' }] }));
    const daemon = await startDaemon({
      env: sandbox.env,
      log: () => undefined,
      resolve: async () => ({ username: 'robot', secret: 'from-daemon' }),
    });
    try {
      const result = await sandbox.berth(['generate', 'out.json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toMatch(/^berth: ci: r\.example as robot via berth daemon, does not expire$/m);
      expect(JSON.parse(await readFile(join(sandbox.dir, 'out.json'), 'utf8'))).toEqual({
        auths: { 'r.example': { auth: Buffer.from('robot:from-daemon').toString('base64') } },
      });
    } finally {
      await daemon.close();
    }
  });
});
