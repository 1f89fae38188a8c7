/**
 * What a user sees on stderr while docker pulls through the built helper: nothing for a registry
 * berth has no configuration for (anonymous pulls of public images), no SDK warnings ever, at most
 * one line when a pull fails for a reason the user must fix, and a broken config entry reported
 * once while stored credentials are still served.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HELPER_JS, spawnCollect } from '../e2e/harness/clients.js';
import { tempHome } from '../e2e/harness/daemon.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function helperHome(extra: Record<string, string> = {}) {
  const home = await tempHome();
  cleanups.push(home.cleanup);
  const env = {
    ...(Object.fromEntries(Object.entries(home.env).filter((entry) => entry[1] !== undefined)) as Record<string, string>),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
  const helper = (action: string, stdin: string) => spawnCollect(process.execPath, [HELPER_JS, action], env, { stdin });
  return { home, env, helper };
}

const NOT_FOUND = 'credentials not found in native keychain\n';

describe('docker-credential-berth on stderr', { timeout: 60_000 }, () => {
  it.each(['https://index.docker.io/v1/', 'public.ecr.aws', 'gcr.io', 'quay.io', 'europe-docker.pkg.dev'])(
    'get %s with no configuration and no cloud identity: not found, and nothing on stderr',
    async (serverURL) => {
      const { helper } = await helperHome();
      const result = await helper('get', serverURL);
      expect(result).toEqual(expect.objectContaining({ code: 1, stdout: NOT_FOUND, stderr: '' }));
    },
  );

  it('an AWS profile that does not exist: one line, no SDK warning', async () => {
    const { helper } = await helperHome({
      AWS_PROFILE: 'nowhere',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE12',
      AWS_SECRET_ACCESS_KEY: 'x'.repeat(40),
    });
    const result = await helper('get', '123456789012.dkr.ecr.eu-west-1.amazonaws.com');
    expect(result.stdout).toBe(NOT_FOUND);
    expect(result.stderr).not.toMatch(/Multiple credential sources|WARNING|Warning|--trace-warnings/);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^berth: error: no credentials for 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com: .*no usable AWS credentials/,
    );
  });

  it('a configured registry that fails says why in one line', async () => {
    const { home, helper } = await helperHome();
    await mkdir(join(home.env.XDG_CONFIG_HOME!, 'berth'), { recursive: true });
    const registries = [{ name: 'gar', provider: 'google', host: 'gcr.io' }];
    await writeFile(join(home.env.XDG_CONFIG_HOME!, 'berth/config.json'), JSON.stringify({ registries }));
    const result = await helper('get', 'gcr.io');
    expect(result.stdout).toBe(NOT_FOUND);
    expect(result.stderr).toMatch(
      /^berth: error: no credentials for gcr\.io: gar \(google\): .*no Google credentials found.*\(hint: .*\)\n$/,
    );
    expect(result.stderr).not.toMatch(/MetadataLookupWarning|--trace-warnings/);
  });

  it('a typo in the config file: stored credentials are still served, the entry is reported once and skipped', async () => {
    const { home, helper } = await helperHome();
    await mkdir(join(home.env.XDG_CONFIG_HOME!, 'berth'), { recursive: true });
    const registries = [
      { name: 'typo', provider: 'statc', host: 'quay.io' },
      { name: 'gh', provider: 'static', host: 'ghcr.io', options: { usernameEnv: 'GH_USER', passwordEnv: 'GH_TOKEN' } },
    ];
    await writeFile(join(home.env.XDG_CONFIG_HOME!, 'berth/config.json'), `${JSON.stringify({ registries }, null, 2)}\n`);
    expect((await helper('store', JSON.stringify({ ServerURL: 'quay.io', Username: 'robot', Secret: 's3cret' }))).code).toBe(0);
    const stored = await helper('get', 'quay.io');
    expect(stored).toEqual(expect.objectContaining({ code: 0, stderr: '' }));
    expect(JSON.parse(stored.stdout)).toEqual({ ServerURL: 'quay.io', Username: 'robot', Secret: 's3cret' });

    const env = { GH_USER: 'octocat', GH_TOKEN: 'ghp_other' };
    const configured = await spawnCollect(
      process.execPath,
      [HELPER_JS, 'get'],
      { ...(await helperEnv(home)), ...env },
      { stdin: 'ghcr.io' },
    );
    expect(JSON.parse(configured.stdout)).toMatchObject({ Username: 'octocat', Secret: 'ghp_other' });
    expect(configured.stderr).toMatch(
      /^berth: warning: .*config\.json:5:\d+: registries\[0\]\.provider: .*"statc"; the entry "typo" is skipped\n$/,
    );
  });
});

async function helperEnv(home: Awaited<ReturnType<typeof tempHome>>): Promise<Record<string, string>> {
  return Object.fromEntries(Object.entries(home.env).filter((entry) => entry[1] !== undefined)) as Record<string, string>;
}
