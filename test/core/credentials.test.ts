import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveForHelper } from '../../core/credentials.js';
import { NOT_FOUND_MESSAGE, NotFoundError } from '../../core/errors.js';

const HELPER = resolve('dist/docker-credential-berth.js');
let home: string;
let env: Record<string, string>;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'berth-credentials-'));
  env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data'), XDG_CACHE_HOME: join(home, 'cache'), BERTH_STORE: 'file' };
  // A configured registry whose provider cannot work: static with no user or password.
  const config = { registries: [{ name: 'broken', provider: 'static', host: 'r.example' }] };
  env.BERTH_CONFIG = join(home, 'berth.json');
  await writeFile(env.BERTH_CONFIG, JSON.stringify(config));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('resolveForHelper', () => {
  it('answers undefined for a host berth has no configuration for', async () => {
    expect(await resolveForHelper('ghcr.io', env, { write: () => true })).toBeUndefined();
  });

  it('turns a provider failure into not-found that carries the reason', async () => {
    const error = await resolveForHelper('https://r.example', env, { write: () => true }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as Error).message).toBe(NOT_FOUND_MESSAGE);
    expect(String((error as Error).cause)).toMatch(/no credentials for r\.example: broken \(static\): /);
  });
});

describe('docker-credential-berth get (built)', () => {
  function get(serverURL: string) {
    return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const child = execFile(process.execPath, [HELPER, 'get'], { env: { ...env, PATH: process.env.PATH ?? '' } }, (err, stdout, stderr) =>
        done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(serverURL);
    });
  }

  it('prints exactly the not-found text on a provider failure and says why in one stderr line', async () => {
    const result = await get('r.example');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(`${NOT_FOUND_MESSAGE}\n`);
    expect(result.stderr).toMatch(/^berth: no credentials for r\.example: broken \(static\): [^\n]+\n$/);
  });

  it('prints only the not-found text for a registry nobody configured', async () => {
    const result = await get('ghcr.io');
    expect(result).toEqual({ code: 1, stdout: `${NOT_FOUND_MESSAGE}\n`, stderr: '' });
  });
});

