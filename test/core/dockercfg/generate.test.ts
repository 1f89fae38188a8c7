import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { openCredentialCache } from '../../../core/resolve/cache.js';
import type { Config } from '../../../core/config/load.js';
import { AllFailedError, UsageError } from '../../../core/errors.js';
import { daemonFirstResolver, generateDockercfg, selectRegistries } from '../../../core/dockercfg/generate.js';
import { startDaemon } from '../../../daemon/main.js';
import type { ResolveContext } from '../../../core/resolve/resolve.js';
import { FakeProvider, fakeProviderTable } from '../../fakes/provider.js';
import { tempDir } from '../../fakes/temp.js';

const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const T0 = Date.UTC(2026, 0, 1);
const config: Config = {
  registries: [
    { name: 'prod', provider: 'ecr', host: ECR },
    { name: 'hub', provider: 'static', host: 'docker.io' },
    { name: 'hub-ci', provider: 'static', host: 'index.docker.io', prefix: 'ci' },
  ],
};
const detect = (url: string) => (url.endsWith('.amazonaws.com') ? ('ecr' as const) : undefined);
let dir: string;
let clock: number;

beforeEach(async () => {
  dir = await tempDir('berth-generate-');
  clock = T0;
});

function context(cloud: FakeProvider, withCache = false): ResolveContext {
  const now = () => clock;
  const cache = withCache ? openCredentialCache({ dir: join(dir, 'cache'), keyPath: join(dir, 'cache', 'cache.aes'), now }) : undefined;
  return {
    env: {},
    config,
    now,
    providers: fakeProviderTable(cloud),
    detect,
    cache,
    retry: { retries: 1, minTimeoutMs: 1, maxTimeoutMs: 1 },
  };
}

describe('selectRegistries', () => {
  it('takes one registry per configured host when none is named', () => {
    expect(selectRegistries(config, [], detect).map((r) => r.name)).toEqual(['prod', 'hub']);
  });
  it('takes names, and hosts of recognised cloud registries', () => {
    const chosen = selectRegistries(config, ['hub-ci', '999999999999.dkr.ecr.us-east-1.amazonaws.com'], detect);
    expect(chosen.map((r) => r.provider)).toEqual(['static', 'ecr']);
  });
  it('names what it does not know', () => {
    expect(() => selectRegistries(config, ['nope'], detect)).toThrow('no registry named "nope"');
    expect(() => selectRegistries({}, [], detect)).toThrow(UsageError);
  });
});

describe('generateDockercfg', () => {
  it('writes every registry to a 0600 file and leaves no temporary file', async () => {
    const output = join(dir, 'out', 'dockercfg');
    const result = await generateDockercfg(selectRegistries(config, [], detect), { output, format: 'config' }, context(new FakeProvider()));
    expect(Object.keys(JSON.parse(await readFile(output, 'utf8')).auths)).toEqual([ECR, 'https://index.docker.io/v1/']);
    expect((await stat(output)).mode & 0o777).toBe(0o600);
    expect(await readdir(join(dir, 'out'))).toEqual(['dockercfg']);
    expect(result.resolved).toHaveLength(2);
  });

  it('writes nothing, and keeps the old file, when one registry fails', async () => {
    const output = join(dir, 'dockercfg');
    await writeFile(output, 'previous');
    const cloud = new FakeProvider();
    cloud.failNext(ECR, Infinity, 'reset', 'ExpiredToken');
    const error = await generateDockercfg(selectRegistries(config, [], detect), { output, format: 'config' }, context(cloud)).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AllFailedError);
    expect((error as Error).message).toBe(`no credentials for ${ECR}: prod (ecr): ExpiredToken`);
    expect(await readFile(output, 'utf8')).toBe('previous');
  });

  it('refuses two registries that would write the same host', async () => {
    const chosen = selectRegistries(config, ['hub', 'hub-ci'], detect);
    await expect(generateDockercfg(chosen, { output: join(dir, 'x'), format: 'config' }, context(new FakeProvider()))).rejects.toThrow(
      /"hub" and "hub-ci" both write https:\/\/index.docker.io\/v1\//,
    );
  });

  it('checks Kubernetes names before asking any cloud', async () => {
    const cloud = new FakeProvider();
    const chosen = selectRegistries(config, ['prod'], detect);
    await expect(
      generateDockercfg(chosen, { output: join(dir, 'x'), format: 'k8s-secret', secretName: 'Bad' }, context(cloud)),
    ).rejects.toThrow(UsageError);
    expect(cloud.callCount()).toBe(0);
  });

  it('refuses an output that is a directory, or names one, before asking any cloud', async () => {
    const cloud = new FakeProvider();
    const chosen = selectRegistries(config, ['prod'], detect);
    for (const output of [dir, `${join(dir, 'newdir')}/`]) {
      await expect(generateDockercfg(chosen, { output, format: 'config' }, context(cloud))).rejects.toThrow(
        new RegExp(`^cannot write ${output.replace(/[/.]/g, '\\$&')}: it is a directory$`),
      );
    }
    expect(cloud.callCount()).toBe(0);
    await expect(stat(join(dir, 'newdir'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('an output that cannot be written is one line naming it, not the temporary file', async () => {
    const chosen = selectRegistries(config, ['prod'], detect);
    await writeFile(join(dir, 'file'), '');
    const output = join(dir, 'file', 'dockercfg'); // a parent that is a file
    await expect(generateDockercfg(chosen, { output, format: 'config' }, context(new FakeProvider()))).rejects.toThrow(
      new RegExp(`^cannot write ${output.replace(/[/.]/g, '\\$&')}: [^\\n]+$`),
    );
  });

  it('a second run with a valid cached token makes no provider call; an expired one makes exactly one', async () => {
    const cloud = new FakeProvider({ lifetimeMs: 12 * 3_600_000 });
    const chosen = selectRegistries(config, ['prod'], detect);
    const options = { output: join(dir, 'dockercfg'), format: 'config' as const };
    await generateDockercfg(chosen, options, context(cloud, true));
    const first = await readFile(options.output, 'utf8');
    clock = T0 + 11 * 3_600_000;
    await generateDockercfg(chosen, options, context(cloud, true));
    expect(cloud.callCount()).toBe(1);
    expect(await readFile(options.output, 'utf8')).toBe(first);
    clock = T0 + 12 * 3_600_000 - 60_000; // inside the 5-minute margin: expired
    await generateDockercfg(chosen, options, context(cloud, true));
    expect(cloud.callCount()).toBe(2);
    expect(await readFile(options.output, 'utf8')).not.toBe(first);
  });
});

describe('generateDockercfg with a running daemon', () => {
  const timeouts = { connectTimeoutMs: 10_000, responseTimeoutMs: 30_000 }; // a loaded machine

  async function withDaemon() {
    const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), BERTH_DAEMON_SOCKET: join(dir, 'd.sock') };
    const asked: string[] = [];
    const expiresAt = new Date(Date.now() + 12 * 3_600_000);
    const daemon = await startDaemon({
      env,
      log: () => undefined,
      resolve: async (registryHost) => (asked.push(registryHost), { username: 'AWS', secret: 'from-daemon', expiresAt }),
    });
    return { env, asked, expiresAt, close: () => daemon.close() };
  }

  it("writes the daemon's token and makes no provider call of its own", async () => {
    const daemon = await withDaemon();
    try {
      const cloud = new FakeProvider();
      const ctx = { ...context(cloud), env: daemon.env };
      const output = join(dir, 'config.json');
      const result = await generateDockercfg(
        selectRegistries(config, ['prod'], detect),
        { output, format: 'config' },
        ctx,
        daemonFirstResolver(ctx, { timeouts }),
      );
      expect(JSON.parse(await readFile(output, 'utf8'))).toEqual({
        auths: { [ECR]: { auth: Buffer.from('AWS:from-daemon').toString('base64') } },
      });
      expect(cloud.callCount()).toBe(0);
      expect(daemon.asked).toEqual([ECR]);
      expect(result.resolved[0]).toMatchObject({ viaDaemon: true, credential: { expiresAt: daemon.expiresAt } });
    } finally {
      await daemon.close();
    }
  });

  it('resolves a registry scoped to a repository prefix itself: the daemon answers per host', async () => {
    const daemon = await withDaemon();
    try {
      const cloud = new FakeProvider();
      const ctx = { ...context(cloud), env: daemon.env };
      const output = join(dir, 'config.json');
      const result = await generateDockercfg(
        selectRegistries(config, ['hub-ci'], detect),
        { output, format: 'config' },
        ctx,
        daemonFirstResolver(ctx, { timeouts }),
      );
      expect(cloud.callCount()).toBe(1);
      expect(daemon.asked).toEqual([]);
      expect(result.resolved[0]!.viaDaemon).toBeUndefined();
    } finally {
      await daemon.close();
    }
  });
});
