/**
 * The fault harness: the built helper and CLI killed at random points, run on a full disk, fed
 * broken files, and loaded with the daemon dying halfway. Each asserts what a user would notice:
 * the store still opens and holds an old or new value of every entry, errors are one line, nothing
 * already stored is lost, nothing hangs.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmod, chown, mkdtemp, readdir, readFile, rm, stat, truncate, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findProgram } from './harness/tools.js';
import { bundleHarnessEntry, distFile, harnessDaemonEntry, ROOT, startDaemonProcess, tempHome } from './harness/daemon.js';
import { startTokenService } from './harness/token-service.js';

const HELPER = distFile('docker-credential-berth.js');
const BERTH = distFile('berth.cjs');
const GENERATE = join(ROOT, 'dist/generator/berth-generate.js');
const NOT_FOUND = 'credentials not found in native keychain\n';
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs node on `script` with `args`; `killAfterMs` sends SIGKILL then, `timeoutMs` is the deadline. */
function run(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  {
    input = '',
    killAfterMs,
    timeoutMs = 60_000,
    prefix = [] as string[],
  }: { input?: string; killAfterMs?: number; timeoutMs?: number; prefix?: string[] } = {},
): Promise<Run> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const [program, ...programArgs] = prefix.length > 0 ? [...prefix, process.execPath] : [process.execPath];
    const child = spawn(program!, [...programArgs, script, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.stdin.on('error', () => undefined);
    const kill = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    const deadline = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(kill);
      clearTimeout(deadline);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.end(input);
  });
}

const creds = (serverURL: string, secret: string, username = 'u') =>
  JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret });

async function home() {
  const made = await tempHome();
  cleanups.push(made.cleanup);
  return made;
}

/** Runs `work` over `items` with at most `limit` at once. */
async function pool<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index]!, index);
      }
    }),
  );
  return results;
}

/** test/e2e/harness/cache-entry.ts, bundled once for this file, so it runs as its own process. */
const cacheEntryScript = (): Promise<string> => bundleHarnessEntry('cache-entry');

describe('kill -9 at random points', () => {
  it('200 store/erase/login runs killed after a random delay: the store opens, every entry is old or new, the next call is not blocked', async () => {
    const { env, dir } = await home();
    const helperKeys = Array.from({ length: 6 }, (_, i) => `r${i}.example`);
    const loginKeys = Array.from({ length: 3 }, (_, i) => `127.0.0.1:${i + 1}`);
    const witnesses = Array.from({ length: 4 }, (_, i) => `w${i}.example`);
    // berth login may check the password against the registry; these registries do not exist.
    const loginFlags = (await run(BERTH, ['login', '--help'], env)).stdout.includes('--no-verify') ? ['--no-verify'] : [];
    const allowed = new Map<string, Set<string>>();
    for (const key of [...helperKeys, ...loginKeys, ...witnesses]) {
      const initial = `initial-${key}`;
      const stored = loginKeys.includes(key)
        ? await run(BERTH, ['login', key, '-u', 'u', '--password-stdin', ...loginFlags], env, { input: initial })
        : await run(HELPER, ['store'], env, { input: creds(key, initial) });
      expect(stored.code, stored.stdout + stored.stderr).toBe(0);
      allowed.set(key, new Set([initial]));
    }

    const plan = Array.from({ length: 200 }, (_, n) => {
      const roll = Math.random();
      const delay = Math.floor(Math.random() * 250);
      if (roll < 0.2) return { kind: 'login' as const, key: loginKeys[n % loginKeys.length]!, value: `v${n}`, delay };
      return { kind: roll < 0.4 ? ('erase' as const) : ('store' as const), key: helperKeys[n % helperKeys.length]!, value: `v${n}`, delay };
    });
    for (const step of plan) allowed.get(step.key)!.add(step.kind === 'erase' ? '<absent>' : step.value);
    const outcomes = await pool(plan, 8, (step) => {
      if (step.kind === 'login') {
        return run(BERTH, ['login', step.key, '-u', 'u', '--password-stdin', ...loginFlags], env, {
          input: step.value,
          killAfterMs: step.delay,
        });
      }
      const input = step.kind === 'store' ? creds(step.key, step.value) : step.key;
      return run(HELPER, [step.kind], env, { input, killAfterMs: step.delay });
    });
    const killed = outcomes.filter((o) => o.signal === 'SIGKILL').length;
    expect(killed, 'some runs were killed').toBeGreaterThan(20);
    expect(outcomes.filter((o) => o.signal === null && o.code !== 0).map((o) => o.stdout + o.stderr)).toEqual([]);

    const list = await run(HELPER, ['list'], env);
    expect(list.code, list.stdout).toBe(0);
    for (const [key, values] of allowed) {
      const got = await run(HELPER, ['get'], env, { input: key });
      if (got.stdout === NOT_FOUND) expect(values.has('<absent>'), `${key} vanished`).toBe(true);
      else {
        expect(got.code, got.stdout).toBe(0);
        expect(values.has(JSON.parse(got.stdout).Secret), `${key}: ${got.stdout}`).toBe(true);
      }
    }
    for (const key of witnesses) {
      expect(JSON.parse((await run(HELPER, ['get'], env, { input: key })).stdout).Secret).toBe(`initial-${key}`);
    }
    // No lock left by a killed holder blocks the next write (a stale lock would hold it for 20 s).
    const next = await run(HELPER, ['store'], env, { input: creds('after.example', 'after') });
    expect(next.code, next.stdout).toBe(0);
    expect(next.ms).toBeLessThan(5_000);
    // The file store's lock sits beside its file (data dir); other stores' locks in the cache dir.
    for (const lockDir of [join(dir, 'cache', 'berth'), join(dir, 'data', 'berth')]) {
      expect((await readdir(lockDir).catch(() => [])).filter((name) => name.endsWith('.lock'))).toEqual([]);
    }
    // Temporary files of killed writers are removed by the next write once they are quiet.
    const dataDir = join(dir, 'data', 'berth');
    const old = new Date(Date.now() - 120_000);
    for (const name of (await readdir(dataDir)).filter((n) => n.endsWith('.tmp'))) await utimes(join(dataDir, name), old, old);
    expect((await run(HELPER, ['erase'], env, { input: 'after.example' })).code).toBe(0);
    expect((await readdir(dataDir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  }, 120_000);
});

const asRoot = process.getuid?.() === 0;
const canUnshare = asRoot && findProgram('unshare') !== undefined;

describe.skipIf(!canUnshare && !process.env.CI)('full disk (a 64 KiB tmpfs in the test’s own mount namespace)', () => {
  let cacheEntry: string;
  let outside: string;
  beforeAll(async () => {
    if (!canUnshare) throw new Error('the full-disk cases need root and unshare (util-linux)');
    outside = await mkdtemp(join(tmpdir(), 'berth-full-'));
    cacheEntry = await cacheEntryScript();
    await writeFile(join(outside, 'plain'), Buffer.alloc(200_000, 'p'));
  });
  afterAll(() => rm(outside, { recursive: true, force: true }));

  /**
   * Runs `script` (sh) with $M a fresh 64 KiB tmpfs, $OUT a directory outside it, $NODE, $HELPER,
   * $BERTH, $GENERATE, $CACHE; `fill` fills the disk. Returns the files the script left in $OUT.
   */
  async function onFullDisk(script: string): Promise<Record<string, string>> {
    const out = await mkdtemp(join(outside, 'out-'));
    const mount = await mkdtemp(join(outside, 'm-'));
    const prelude = `set -u
export HOME="$M" XDG_DATA_HOME="$M/data" XDG_CACHE_HOME="$M/cache" XDG_CONFIG_HOME="$M/config" XDG_RUNTIME_DIR="$M/run"
fill() { head -c 1000000 /dev/zero > "$M/fill" 2>/dev/null; true; }
`;
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      M: mount,
      OUT: out,
      NODE: process.execPath,
      HELPER,
      BERTH,
      GENERATE,
      CACHE: cacheEntry,
      PLAIN: join(outside, 'plain'),
    };
    execFileSync(
      'unshare',
      ['-m', '--propagation', 'private', 'sh', '-c', `mount -t tmpfs -o size=64k berth-full "$M" && sh -c "$0"; true`, prelude + script],
      {
        env,
        stdio: ['ignore', 'ignore', 'inherit'],
      },
    );
    const files: Record<string, string> = {};
    for (const name of await readdir(out)) files[name] = await readFile(join(out, name), 'utf8');
    await rm(mount, { recursive: true, force: true });
    return files;
  }

  const oneErrorLine = (text: string) => text.split('\n').filter(Boolean);

  it('store: one line, the previous entries intact', async () => {
    const files = await onFullDisk(`
printf '%s' '${creds('old.example', 'old')}' | "$NODE" "$HELPER" store
fill
printf '%s' '${creds('new.example', 'new')}' | "$NODE" "$HELPER" store > "$OUT/stdout" 2> "$OUT/stderr"; echo $? > "$OUT/code"
rm "$M/fill"
printf old.example | "$NODE" "$HELPER" get > "$OUT/get"
printf new.example | "$NODE" "$HELPER" get > "$OUT/getnew"
`);
    expect(files.code).toBe('1\n');
    expect(oneErrorLine(files.stdout!)).toEqual([expect.stringMatching(/no space left on device|ENOSPC/)]);
    expect(JSON.parse(files.get!).Secret).toBe('old');
    expect(files.getnew).toBe(NOT_FOUND);
  });

  it('cache: one line, the previous cache intact', async () => {
    const files = await onFullDisk(`
"$NODE" "$CACHE" "$M/cache" put k1 first > /dev/null
fill
"$NODE" "$CACHE" "$M/cache" put k2 second > "$OUT/stdout"; echo $? > "$OUT/code"
rm "$M/fill"
"$NODE" "$CACHE" "$M/cache" get k1 > "$OUT/k1"
`);
    expect(files.code).toBe('1\n');
    expect(oneErrorLine(files.stdout!)).toEqual([expect.stringMatching(/no space left on device|ENOSPC/)]);
    expect(files.k1).toBe('first\n');
  });

  it('encrypt: one line, the previous output intact', async () => {
    const files = await onFullDisk(`
"$NODE" "$BERTH" keygen "$M/k.aes" > /dev/null
printf 'previous' | "$NODE" "$BERTH" encrypt - "$M/out.enc" --key-path "$M/k.aes"
fill
"$NODE" "$BERTH" encrypt "$PLAIN" "$M/out.enc" --key-path "$M/k.aes" > /dev/null 2> "$OUT/stderr"; echo $? > "$OUT/code"
rm "$M/fill"
"$NODE" "$BERTH" decrypt "$M/out.enc" - --key-path "$M/k.aes" > "$OUT/after"
ls -A "$M" > "$OUT/ls"
`);
    expect(files.code).toBe('1\n');
    expect(oneErrorLine(files.stderr!)).toEqual([
      expect.stringMatching(/^berth: error: cannot write .*out\.enc: no space left on device$/),
    ]);
    expect(files.after).toBe('previous');
    expect(files.ls).toBe('k.aes\nout.enc\n');
  });

  it('generate: one line, the previous dockercfg intact', async () => {
    const files = await onFullDisk(`
export BERTH_PROVIDER=static DOCKER_USERNAME=u DOCKER_PASSWORD=old
"$NODE" "$GENERATE" "$M/dockercfg" 2> /dev/null
cp "$M/dockercfg" "$OUT/before"
fill
DOCKER_PASSWORD=new "$NODE" "$GENERATE" "$M/dockercfg" 2> "$OUT/stderr"; echo $? > "$OUT/code"
cp "$M/dockercfg" "$OUT/after"
`);
    expect(files.code).toBe('1\n');
    expect(files.stderr).toMatch(/no space left on device|ENOSPC/);
    expect(
      files.stderr!.split('\n').filter((line) => line.startsWith('berth: error:')),
      files.stderr,
    ).toHaveLength(1);
    expect(files.after).toBe(files.before);
    expect(files.before).toContain('auths');
  });

  it('configure: one line, the previous docker config intact', async () => {
    const files = await onFullDisk(`
mkdir -p "$M/.docker" && printf '{"auths":{},"psFormat":"table"}\\n' > "$M/.docker/config.json"
fill
"$NODE" "$BERTH" configure > /dev/null 2> "$OUT/stderr"; echo $? > "$OUT/code"
cp "$M/.docker/config.json" "$OUT/after"
`);
    expect(files.code).not.toBe('0\n');
    expect(files.stderr!.split('\n').filter((line) => line.startsWith('berth: error:'))).toHaveLength(1);
    expect(files.stderr).toMatch(/no space left on device|ENOSPC/);
    expect(files.after).toBe('{"auths":{},"psFormat":"table"}\n');
  });
});

describe('unreadable and corrupted files', () => {
  async function storeWith(entries: number) {
    const made = await home();
    for (let i = 0; i < entries; i++) await run(HELPER, ['store'], made.env, { input: creds(`e${i}.example`, `s${i}`) });
    const storePath = join(made.dir, 'data', 'berth', 'credentials.berth');
    const keyPath = join(made.dir, 'data', 'berth', 'store.key');
    return { ...made, storePath, keyPath };
  }

  /** get fails with one line; store fails too and leaves the file exactly as it was. */
  async function expectRefused(env: NodeJS.ProcessEnv, storePath: string, message: RegExp, prefix: string[] = []) {
    const before = await readFile(storePath).catch(() => undefined);
    const got = await run(HELPER, ['get'], env, { input: 'e0.example', prefix });
    expect(got.code).toBe(1);
    expect(got.stdout.split('\n').filter(Boolean)).toEqual([expect.stringMatching(message)]);
    const stored = await run(HELPER, ['store'], env, { input: creds('new.example', 'n'), prefix });
    expect(stored.code).toBe(1);
    expect(stored.stdout).toMatch(message);
    const after = await readFile(storePath).catch(() => undefined);
    expect(after?.equals(before!) ?? after === before).toBe(true);
  }

  it.each([
    ['truncated', async (path: string) => truncate(path, Math.floor((await stat(path)).size / 2)), /truncated|cut short/],
    ['zero-length', (path: string) => truncate(path, 0), /empty/],
    ['another format', (path: string) => writeFile(path, '{"version":1,"entries":{}}\n'), /not a berth encrypted file/],
    [
      'another key',
      (path: string) => readFile(path).then((b) => writeFile(path, Buffer.concat([b.subarray(0, 60), Buffer.alloc(40), b.subarray(100)]))),
      /tampered|wrong key/,
    ],
  ] as const)('a store file %s: one line, never overwritten', async (_what, damage, message) => {
    const { env, storePath } = await storeWith(3);
    await damage(storePath);
    await expectRefused(env, storePath, message);
  });

  it.each([
    ['truncated', async (path: string) => truncate(path, Math.floor((await stat(path)).size / 2))],
    ['zero-length', (path: string) => truncate(path, 0)],
    ['another format', (path: string) => writeFile(path, '{"version":1,"entries":{}}\n')],
    ['mode 0000', (path: string) => chmod(path, 0o000)],
  ] as const)('a cache file %s: a miss with one warning line, and the next put rebuilds it', async (what, damage) => {
    const script = await cacheEntryScript();
    const { dir, env } = await home();
    const cacheDir = join(dir, 'cache', 'berth');
    // Root reads a mode 0000 file anyway: that case runs as uid 65534 with a home it owns.
    const prefix = what === 'mode 0000' && asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--'] : [];
    if (prefix.length > 0) execFileSync('chown', ['-R', '65534:65534', dir]);
    expect((await run(script, [cacheDir, 'put', 'k', 'first'], env, { prefix })).stdout).toBe('ok\n');
    await damage(join(cacheDir, 'credentials.berth'));
    const miss = await run(script, [cacheDir, 'get', 'k'], env, { prefix });
    expect(miss).toMatchObject({ code: 0, stdout: 'miss\n' });
    expect(miss.stderr).toMatch(/^berth: warning: cannot (read|open) the credential cache [^\n]+\n$/);
    if (what === 'mode 0000') return; // unreadable, it cannot be rebuilt by its reader either; a miss is what it gets
    expect((await run(script, [cacheDir, 'put', 'k', 'second'], env, { prefix })).stdout).toBe('ok\n');
    expect((await run(script, [cacheDir, 'get', 'k'], env, { prefix })).stdout).toBe('second\n');
  });

  it('a key file of the wrong length: one line, the store kept', async () => {
    const { env, storePath, keyPath } = await storeWith(2);
    await writeFile(keyPath, 'c2hvcnQ=\n');
    await expectRefused(env, storePath, /malformed key in .*store\.key/);
  });

  // Root reads a mode 0000 file anyway, so the case runs as uid 65534 (setpriv), with a home it owns.
  it.skipIf(!asRoot && !process.env.CI)('a store file with mode 0000, as an unprivileged user: one line, never overwritten', async () => {
    expect(findProgram('setpriv'), 'setpriv (util-linux) is needed').toBeDefined();
    const { env, dir, storePath } = await storeWith(2);
    execFileSync('chown', ['-R', '65534:65534', dir]);
    await chmod(storePath, 0o000);
    await expectRefused(env, storePath, /cannot read .*credentials\.berth: .*(EACCES|permission denied)/, [
      'setpriv',
      '--reuid=65534',
      '--regid=65534',
      '--clear-groups',
      '--',
    ]);
    await chown(dir, 0, 0);
  });
});

describe('load: concurrent helpers while the daemon dies', () => {
  it('200 gets and 50 stores mixed, twice, the daemon killed halfway: every get right or not found, none hangs, no entry lost', async () => {
    const tokens = await startTokenService({ lifetimeMs: 3_600_000 });
    cleanups.push(() => tokens.close());
    const { env: homeEnv } = await home();
    const env = {
      ...homeEnv,
      BERTH_TEST_TOKEN_URL: tokens.url,
      BERTH_DAEMON_CONNECT_TIMEOUT_MS: '3000',
      BERTH_DAEMON_TIMEOUT_MS: '10000',
    };
    const socketPath = join(homeEnv.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock');
    const daemon = await startDaemonProcess(await harnessDaemonEntry(), [], env, socketPath);
    cleanups.push(() => daemon.stop());
    const stored = new Map<string, string>();
    for (let i = 0; i < 10; i++) {
      const key = `pre${i}.example`;
      expect((await run(HELPER, ['store'], env, { input: creds(key, `pre-${i}`) })).code).toBe(0);
      stored.set(key, `pre-${i}`);
    }
    const HELPER_DEADLINE_MS = 60_000;
    // Processes in flight at once: more only queue on the two cores of a CI machine.
    const CONCURRENCY = Number(process.env.BERTH_FAULT_CONCURRENCY ?? 50);
    for (const round of [1, 2]) {
      const jobs = Array.from({ length: 250 }, (_, n) => {
        if (n % 5 === 4) return { kind: 'store' as const, key: `r${round}-${n}.example`, value: `new-${round}-${n}` };
        return { kind: 'get' as const, key: n % 2 === 0 ? ECR : `pre${n % 10}.example` };
      });
      const started = performance.now();
      const results = await pool(jobs, CONCURRENCY, async (job, n) => {
        if (round === 2 && n === 125) daemon.child.kill('SIGKILL');
        const input = job.kind === 'store' ? creds(job.key, job.value) : job.key;
        return { job, result: await run(HELPER, [job.kind], env, { input, timeoutMs: HELPER_DEADLINE_MS }) };
      });
      const slowest = Math.max(...results.map((r) => r.result.ms));
      expect(slowest, `round ${round} took ${Math.round(performance.now() - started)} ms`).toBeLessThan(HELPER_DEADLINE_MS);
      for (const { job, result } of results) {
        expect(result.signal, `${job.kind} ${job.key} hung`).toBeNull();
        if (job.kind === 'store') {
          expect(result.code, result.stdout).toBe(0);
          stored.set(job.key, job.value);
        } else if (result.stdout !== NOT_FOUND || job.key !== ECR) {
          // Not found is a right answer for the daemon's registry only: once the daemon is gone (or
          // too slow to answer under this load) the helper resolves it itself, and nothing is configured.
          expect(result.code, `${job.key}: ${result.stdout}${result.stderr}`).toBe(0);
          const expected = job.key === ECR ? `token-1-${ECR}` : stored.get(job.key);
          expect(JSON.parse(result.stdout).Secret).toBe(expected);
        }
      }
    }
    for (const [key, value] of stored) {
      const got = await run(HELPER, ['get'], env, { input: key });
      expect(got.code, `${key} lost: ${got.stdout}`).toBe(0);
      expect(JSON.parse(got.stdout).Secret).toBe(value);
    }
    expect(stored.size).toBe(110);
  }, 180_000);
});
