import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CACHE_FILE_NAME,
  cacheKeyFor,
  isFresh,
  openCredentialCache,
  withCache,
  type CredentialCache,
} from '../../../core/resolve/cache.js';
import type { RegistryConfig } from '../../../core/config/load.js';
import type { ProviderRequest } from '../../../core/providers/provider.js';
import { FakeProvider } from '../../fakes/provider.js';
import { tempDir } from '../../fakes/temp.js';

const T0 = Date.UTC(2026, 0, 1, 12);
let dir: string;
let clock: number;
let warnings: string[];

function open(): CredentialCache {
  return openCredentialCache({ dir, keyPath: join(dir, 'key', 'cache.aes'), now: () => clock, warn: (line) => warnings.push(line) });
}

beforeEach(async () => {
  dir = await tempDir('berth-cache-');
  clock = T0;
  warnings = [];
});

describe('isFresh', () => {
  const entry = (lifeMs: number) => ({ obtainedAt: new Date(T0).toISOString(), expiresAt: new Date(T0 + lifeMs).toISOString() });
  it('keeps a 10% margin for short tokens (20 s life → expired from 18 s)', () => {
    expect(isFresh(entry(20_000), T0 + 17_999)).toBe(true);
    expect(isFresh(entry(20_000), T0 + 18_000)).toBe(false);
    expect(isFresh(entry(20_000), T0 + 18_001)).toBe(false);
  });
  it('caps the margin at 5 minutes (12 h ECR token)', () => {
    const twelveHours = 12 * 3_600_000;
    expect(isFresh(entry(twelveHours), T0 + twelveHours - 300_001)).toBe(true);
    expect(isFresh(entry(twelveHours), T0 + twelveHours - 300_000)).toBe(false);
  });
});

describe('openCredentialCache', () => {
  it('keeps a credential encrypted in a 0600 file and gives it back while fresh', async () => {
    const cache = open();
    await cache.put('k', { username: 'AWS', secret: 'sekrit-token', expiresAt: new Date(T0 + 3_600_000) });
    expect(await open().get('k')).toEqual({ username: 'AWS', secret: 'sekrit-token', expiresAt: new Date(T0 + 3_600_000) });
    const file = join(dir, CACHE_FILE_NAME);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, 'key', 'cache.aes'))).mode & 0o777).toBe(0o600);
    expect((await readFile(file)).includes('sekrit-token')).toBe(false);
    clock = T0 + 3_600_000 - 300_000;
    expect(await cache.get('k')).toBeUndefined();
  });

  it('does not cache credentials that never expire', async () => {
    const cache = open();
    await cache.put('static', { username: 'u', secret: 'p' });
    expect(await cache.get('static')).toBeUndefined();
  });

  it('treats a corrupt cache as empty, says so, and replaces it on the next write', async () => {
    const cache = open();
    await cache.put('a', { username: 'AWS', secret: 's1', expiresAt: new Date(T0 + 3_600_000) });
    await writeFile(join(dir, CACHE_FILE_NAME), 'garbage');
    expect(await cache.get('a')).toBeUndefined();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^cannot open the credential cache .*credentials\.berth: not a berth encrypted file; starting an empty one$/,
    );
    await cache.put('b', { username: 'AWS', secret: 's2', expiresAt: new Date(T0 + 3_600_000) });
    expect(await cache.get('b')).toMatchObject({ secret: 's2' });
  });

  it('loses no entry when many writers race', async () => {
    const writers = Array.from({ length: 12 }, (_, i) =>
      open().put(`registry-${i}`, { username: 'AWS', secret: `s${i}`, expiresAt: new Date(T0 + 3_600_000) }),
    );
    await Promise.all(writers);
    const cache = open();
    for (let i = 0; i < 12; i++) expect((await cache.get(`registry-${i}`))?.secret).toBe(`s${i}`);
  });

  it('drops expired entries when it writes', async () => {
    const cache = open();
    await cache.put('old', { username: 'AWS', secret: 'old', expiresAt: new Date(T0 + 60_000) });
    clock = T0 + 120_000;
    await cache.put('new', { username: 'AWS', secret: 'new', expiresAt: new Date(clock + 60_000) });
    clock = T0;
    expect(await cache.get('old')).toBeUndefined();
  });
});

describe('cacheKeyFor', () => {
  const registry: RegistryConfig = { name: 'prod', provider: 'ecr', host: 'https://123456789012.dkr.ecr.us-east-1.amazonaws.com/' };
  const request = (options: ProviderRequest['options']): ProviderRequest => ({
    registryHost: '123456789012.dkr.ecr.us-east-1.amazonaws.com',
    options,
    env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEKEY' },
    now: () => T0,
  });

  it('uses the provider identity when it has one', async () => {
    const module = new FakeProvider({ identity: () => 'arn:aws:iam::123456789012:role/pull' }).module;
    expect(await cacheKeyFor(registry, module, request({}))).toBe(
      '123456789012.dkr.ecr.us-east-1.amazonaws.com ecr arn:aws:iam::123456789012:role/pull',
    );
  });

  it('otherwise hashes the settings, never showing them or the access key id', async () => {
    const module = new FakeProvider().module;
    const a = await cacheKeyFor(registry, module, request({ profile: 'prod', region: 'us-east-1' }));
    const b = await cacheKeyFor(registry, module, request({ region: 'us-east-1', profile: 'prod' }));
    const c = await cacheKeyFor(registry, module, request({ profile: 'dev', region: 'us-east-1' }));
    expect(a).toBe(b);
    expect(a).not.toBe(c);
    expect(a).not.toMatch(/prod|AKIA/);
  });

  it('tells apart credentials chosen by the environment (two key files, one registry)', async () => {
    const module = { ...new FakeProvider().module, identityEnv: ['GOOGLE_APPLICATION_CREDENTIALS'] };
    const google: RegistryConfig = { name: 'g', provider: 'google', host: 'europe-west1-docker.pkg.dev' };
    const keyFor = (keyFile: string) =>
      cacheKeyFor(google, module, {
        registryHost: google.host,
        options: {},
        env: { GOOGLE_APPLICATION_CREDENTIALS: keyFile },
        now: () => T0,
      });
    expect(await keyFor('/keys/a.json')).not.toBe(await keyFor('/keys/b.json'));
    expect(await keyFor('/keys/a.json')).toBe(await keyFor('/keys/a.json'));
    expect(await keyFor('/keys/a.json')).not.toContain('a.json');
  });
});

describe('withCache', () => {
  it('asks the provider once while the token is fresh, and exactly once more after it expires', async () => {
    const cloud = new FakeProvider({ lifetimeMs: 20_000 });
    const provider = withCache(cloud.provider, open(), async (req) => req.registryHost);
    const request: ProviderRequest = { registryHost: 'r.example', options: {}, env: {}, now: () => clock };
    expect((await provider(request)).secret).toBe('token-r.example-1');
    clock = T0 + 17_000;
    expect((await provider(request)).secret).toBe('token-r.example-1');
    expect(cloud.callCount()).toBe(1);
    clock = T0 + 18_000;
    expect((await provider(request)).secret).toBe('token-r.example-2');
    expect(cloud.callCount()).toBe(2);
  });
});
