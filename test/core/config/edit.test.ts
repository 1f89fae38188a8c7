import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { addRegistry, removeRegistry } from '../../../core/config/edit.js';
import { loadConfig } from '../../../core/config/load.js';
import { tempDir } from '../../fakes/temp.js';

let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  dir = await tempDir('berth-config-edit-');
  env = { HOME: dir, BERTH_CONFIG: join(dir, 'config.json') };
});

describe('addRegistry / removeRegistry', () => {
  it('loses no registry when many edits race', async () => {
    const names = Array.from({ length: 10 }, (_, i) => `r${i}`);
    await Promise.all(names.map((name) => addRegistry(env, { name, provider: 'static', host: `${name}.example` })));
    const { config } = await loadConfig(env);
    expect(config.registries?.map((r) => r.name).sort()).toEqual(names.sort());
  });

  it('keeps the other fields of the file', async () => {
    await writeFile(env.BERTH_CONFIG!, '{"store":"pass","registries":[{"name":"a","provider":"static","host":"a.example"}]}');
    await addRegistry(env, {
      name: 'b',
      provider: 'ecr',
      host: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
      options: { profile: 'ci' },
    });
    await removeRegistry(env, 'a');
    expect(JSON.parse(await readFile(env.BERTH_CONFIG!, 'utf8'))).toEqual({
      store: 'pass',
      registries: [{ name: 'b', provider: 'ecr', host: '123456789012.dkr.ecr.us-east-1.amazonaws.com', options: { profile: 'ci' } }],
    });
  });

  it('refuses to edit a config file that is already invalid, naming its line and column', async () => {
    await writeFile(env.BERTH_CONFIG!, '{\n  "store": "vault"\n}\n');
    await expect(addRegistry(env, { name: 'a', provider: 'static', host: 'h' })).rejects.toThrow(
      /:2:3: store: must be one of "file", "keychain", "pass", not "vault"$/,
    );
    expect(await readFile(env.BERTH_CONFIG!, 'utf8')).toBe('{\n  "store": "vault"\n}\n');
  });
});
