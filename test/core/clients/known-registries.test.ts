/** knownRegistries: logged-in and configured registries, one key each; a broken store is a reason, not a failure. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { knownRegistries } from '../../../core/clients/known-registries.js';
import type { Env } from '../../../core/paths.js';
import { DOCKER_HUB_KEY } from '../../../core/registry-host.js';
import { openStore } from '../../../core/store/index.js';
import { tempDir } from '../../fakes/temp.js';

let dir: string;
let env: Env;
beforeEach(async () => {
  dir = await tempDir('berth-known-');
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), XDG_DATA_HOME: join(dir, 'data') };
  await mkdir(join(dir, 'config/berth'), { recursive: true });
  await writeFile(
    join(dir, 'config/berth/config.json'),
    JSON.stringify({
      registries: [
        { name: 'hub', provider: 'static', host: 'registry-1.docker.io' },
        { name: 'gh', provider: 'static', host: 'https://ghcr.io/' },
      ],
    }),
  );
});

describe('knownRegistries', () => {
  it('merges the store and the config file, one key per registry, sorted', async () => {
    const store = await openStore('file', { env });
    await store.set('ghcr.io', { username: 'u', secret: 's' });
    await store.set('localhost:5000', { username: 'u', secret: 's' });
    // docker's Hub OAuth tokens sit beside the Hub login: no registry of their own
    await store.set(`${DOCKER_HUB_KEY}refresh-token`, { username: 'u', secret: 'r..client' });
    expect(await knownRegistries(env)).toEqual({ registryKeys: ['ghcr.io', DOCKER_HUB_KEY, 'localhost:5000'], problems: [] });
  });

  it('keeps the configured registries when the store cannot be listed', async () => {
    await mkdir(join(dir, 'data/berth'), { recursive: true });
    await writeFile(join(dir, 'data/berth/credentials.berth'), 'not a store, and no key file beside it');
    const result = await knownRegistries(env);
    expect(result.registryKeys).toEqual(['ghcr.io', DOCKER_HUB_KEY]);
    expect(result.problems).toEqual([
      expect.stringMatching(/^cannot list the credential store: .*credentials\.berth exists but its key file .* is missing$/),
    ]);
  });
});
