/**
 * What the built helper loads on its hot paths: a stored `get` and `list`, an ECR `get` answered
 * from the warm disk cache, and a `get` the daemon answers. docker starts the helper for every pull,
 * so each path must load one file of berth's and no SDK, no schema library, no HTTP stack, no
 * lock or retry library. Lists, not timings: `npm run bench` measures the time.
 */
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { processCache } from '../../core/resolve/context.js';
import { cacheKeyFor, type CredentialCache } from '../../core/resolve/cache.js';
import { PROVIDERS } from '../../core/providers/index.js';
import { pickRegistry } from '../../core/resolve/resolve.js';
import { moduleTracer, type LoadedModules, type Tracer } from './harness/loaded-modules.js';
import { requireBuiltHelper, tempHome, type HelperEnv } from './harness/run-berth-helper.js';

/** The package's `bin` entry (dist/docker-credential-berth.js loads the same file). */
const HELPER_BIN = fileURLToPath(new URL('../../dist/docker-credential-berth.cjs', import.meta.url));
/** The bundle it runs, with the V8 code cache beside it. */
const BUNDLE = fileURLToPath(new URL('../../dist/helper.cjs', import.meta.url));
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';
const FROM_DAEMON = '210987654321.dkr.ecr.eu-west-1.amazonaws.com';
/** Loading any of these on a hot path costs more than the answer. */
const HEAVY_FILES =
  /node_modules\/(@aws-sdk|@smithy|@azure|google-auth-library|express|valibot|jsonc-parser|retry|proper-lockfile|undici|https-proxy-agent|commander|@kubernetes)\//;
const HEAVY_BUILTINS = ['http', 'https', 'tls', 'http2', 'zlib', 'child_process', 'worker_threads', 'dns'];

let tracer: Tracer;
let home: Awaited<ReturnType<typeof tempHome>>;
let env: HelperEnv;
let daemon: Server;

async function prefillEcrCache(cache: CredentialCache): Promise<void> {
  const registry = pickRegistry(ECR, {})!;
  const request = { registryHost: ECR, options: {}, env, now: () => Date.now() };
  const key = await cacheKeyFor(registry, await PROVIDERS.ecr(), request);
  await cache.put(key, { username: 'AWS', secret: 'from-the-cache', expiresAt: new Date(Date.now() + 12 * 3600_000) });
}

beforeAll(async () => {
  requireBuiltHelper();
  tracer = await moduleTracer();
  home = await tempHome();
  env = { ...home.env, AWS_ACCESS_KEY_ID: 'AKIAHOTPATHEXAMPLE', AWS_SECRET_ACCESS_KEY: 'hot-path', AWS_REGION: 'eu-west-1' };
  const stored = await tracer.run(
    [HELPER_BIN, 'store'],
    env,
    JSON.stringify({ ServerURL: 'stored.example.com', Username: 'u', Secret: 's' }),
  );
  expect(stored.code, stored.stdout).toBe(0);
  await prefillEcrCache(
    processCache(
      env,
      {},
      () => Date.now(),
      () => undefined,
    ),
  );
}, 60_000);

afterAll(async () => {
  await new Promise((resolve) => (daemon ? daemon.close(resolve) : resolve(undefined)));
  await tracer?.remove();
  await home?.remove();
});

function expectLean(loaded: LoadedModules): void {
  expect(loaded.code, loaded.stdout + loaded.stderr).toBe(0);
  expect(loaded.stderr).toBe('');
  // one file: the bundled helper itself
  expect(loaded.files).toEqual([HELPER_BIN]);
  expect(loaded.files.filter((file) => HEAVY_FILES.test(file))).toEqual([]);
  expect(loaded.builtins.filter((name) => HEAVY_BUILTINS.includes(name))).toEqual([]);
}

describe('the helper hot paths load only what they need', () => {
  it('a stored get: read the key and the store, decrypt, print', async () => {
    const loaded = await tracer.run([HELPER_BIN, 'get'], env, 'stored.example.com');
    expectLean(loaded);
    expect(JSON.parse(loaded.stdout)).toEqual({ ServerURL: 'stored.example.com', Username: 'u', Secret: 's' });
    expect(loaded.builtins).toEqual(expect.arrayContaining(['crypto']));
  });

  it('list', async () => {
    const loaded = await tracer.run([HELPER_BIN, 'list'], env);
    expectLean(loaded);
    expect(loaded.stdout).toBe('{"stored.example.com":"u"}\n');
  });

  it('an ECR get from the warm disk cache: no AWS SDK, no config schema, no retry library', async () => {
    // a config file is there, so a schema library would have something to check
    mkdirSync(join(home.dir, '.config', 'berth'), { recursive: true });
    writeFileSync(
      join(home.dir, '.config', 'berth', 'config.json'),
      JSON.stringify({ registries: [{ name: 'ecr', provider: 'ecr', host: ECR }] }),
    );
    const loaded = await tracer.run([HELPER_BIN, 'get'], env, ECR);
    expectLean(loaded);
    expect(JSON.parse(loaded.stdout)).toMatchObject({ ServerURL: ECR, Username: 'AWS', Secret: 'from-the-cache' });
  });

  it('the helper starts from the code cache the build wrote: this node accepts it', async () => {
    const loaded = await tracer.run([HELPER_BIN, 'version'], { ...env, BERTH_DEBUG: '1' });
    expect(loaded.code).toBe(0);
    expect(loaded.stderr).toBe('');
    expect(existsSync(`${BUNDLE}.cache`)).toBe(true);
  });

  it('a get the daemon answers: one request on the unix socket, no node:http in the client', async () => {
    const socketDir = join(home.dir, 'run', 'berth');
    mkdirSync(socketDir, { recursive: true, mode: 0o700 });
    const asked: string[] = [];
    daemon = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ Username: 'AWS', Secret: 'from-the-daemon', ExpiresAt: new Date(Date.now() + 3600_000).toISOString() }));
    });
    await new Promise<void>((resolve) => daemon.listen(join(socketDir, 'daemon.sock'), resolve));
    const loaded = await tracer.run([HELPER_BIN, 'get'], env, FROM_DAEMON);
    expectLean(loaded);
    expect(JSON.parse(loaded.stdout)).toEqual({ ServerURL: FROM_DAEMON, Username: 'AWS', Secret: 'from-the-daemon' });
    expect(asked).toEqual([`GET /v1/credentials?registry=${encodeURIComponent(FROM_DAEMON)}`]);
  });
});

/** `berth`'s bin and the bundle it runs the plain decrypt and encrypt from. */
const BERTH_BIN = fileURLToPath(new URL('../../dist/berth.cjs', import.meta.url));
const FAST_BUNDLE = fileURLToPath(new URL('../../dist/berth-fast.cjs', import.meta.url));

describe('berth decrypt and encrypt of a small file load only what they need', () => {
  it('no command table, no ES module program: one file of berth, read with its code cache', async () => {
    const key = join(home.dir, 'hot.aes');
    const plain = join(home.dir, 'hot.txt');
    writeFileSync(plain, 'TOKEN=hot-path\n');
    const keygen = await tracer.run([BERTH_BIN, 'keygen', key], env);
    expect(keygen.code, keygen.stderr).toBe(0);
    for (const argv of [
      ['encrypt', plain, `${plain}.berth`, '--key-path', key],
      ['decrypt', `${plain}.berth`, `${plain}.out`, '--key-path', key],
    ]) {
      const loaded = await tracer.run([BERTH_BIN, ...argv], { ...env, BERTH_DEBUG: '1' });
      expect(loaded.code, loaded.stderr).toBe(0);
      // BERTH_DEBUG=1 says when the code cache is missing or rejected
      expect(loaded.stderr).toBe('');
      expect(loaded.files).toEqual([BERTH_BIN]);
      expect(loaded.builtins.filter((name) => HEAVY_BUILTINS.includes(name))).toEqual([]);
    }
    expect(existsSync(`${FAST_BUNDLE}.cache`)).toBe(true);
    expect(readFileSync(`${plain}.out`, 'utf8')).toBe('TOKEN=hot-path\n');
  });

  it('any other form is the full program (berth.js)', async () => {
    const loaded = await tracer.run([BERTH_BIN, 'decrypt', '--help'], env);
    expect(loaded.code).toBe(0);
    expect(loaded.stdout).toContain('Usage: berth decrypt');
    expect(loaded.files).toContain(fileURLToPath(new URL('../../dist/berth.js', import.meta.url)));
  });
});
