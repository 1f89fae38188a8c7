/**
 * The standalone executable itself (dist/bin/berth, built by `npm run build`), whichever build
 * BERTH_BUILD selects for the other tests: it picks its entry by the name it is started under, reads
 * no `.env` or `bunfig.toml` from the working directory and no runtime flags from BUN_OPTIONS, and
 * where its runtime (Bun) differs from Node in something berth relies on, it still agrees with the
 * Node build: the encrypted-file format (node:crypto GCM, HMAC, HKDF) both ways, the store lock
 * between processes of both builds, the N-API keychain addon carried inside the file, re-executing
 * itself for the daemon, SIGINT.
 */
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { daemonRequest } from '../../core/resolve/daemon-client.js';
import { BINARY, berthCommand, type BuildName, type Program } from '../e2e/harness/build.js';
import { spawnCollect, type RunResult } from '../e2e/harness/clients.js';
import { findProgram, skipUnlessTools } from '../e2e/harness/tools.js';
import { SECRET_SERVICE_TOOLS, startSecretService, type SessionBus } from '../e2e/harness/secret-service.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

let dir: string;
let env: Record<string, string>;

beforeAll(() => {
  berthCommand('berth', 'binary'); // throws when not built
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-standalone-'));
  await mkdir(join(dir, 'run'), { mode: 0o700 });
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
  };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** Runs `program` of `build` in the test directory. */
function run(build: BuildName, program: Program, args: string[], stdin = '', extraEnv: Record<string, string> = {}): Promise<RunResult> {
  const command = berthCommand(program, build);
  return spawnCollect(command.file, [...command.args, ...args], { ...env, ...extraEnv }, { stdin, cwd: dir });
}

/** The executable under another name, in the test directory. */
async function named(name: string, how: 'symlink' | 'copy'): Promise<string> {
  const path = join(dir, name);
  await (how === 'symlink' ? symlink(BINARY, path) : copyFile(BINARY, path));
  return path;
}

describe('one file, every entry', () => {
  it.each([
    ['docker-credential-berth', 'symlink', ['version'], `docker-credential-berth berth ${version}\n`],
    ['berth', 'symlink', ['--version'], `berth ${version}\n`],
    ['berth-linux-x64', 'copy', ['--version'], `berth ${version}\n`],
  ] as const)('started as %s (%s) it is the matching program', async (name, how, args, stdout) => {
    const result = await spawnCollect(await named(name, how), [...args], env);
    expect(result).toMatchObject({ stdout, stderr: '', code: 0 });
  });

  it('started as berth-generate it is the generator entry', async () => {
    const result = await spawnCollect(await named('berth-generate', 'copy'), [], env);
    expect(result).toMatchObject({ stdout: '', code: 2 });
    expect(result.stderr).toBe(
      'berth: error: expected one argument: the path to write, or - for stdout\n' +
        'berth: hint: usage: berth-generate OUTPUT_PATH|- (settings come from environment variables)\n',
    );
  });

  it('the hidden first argument picks the entry whatever the name; the entry never sees it', async () => {
    const helper = await named('docker-credential-berth', 'symlink');
    expect((await spawnCollect(helper, ['--berth-entry=cli', '--version'], env)).stdout).toBe(`berth ${version}\n`);
    expect((await spawnCollect(BINARY, ['--berth-entry=helper', 'version'], env)).stdout).toBe(
      `docker-credential-berth berth ${version}\n`,
    );
    // An unknown entry is no hidden argument: the CLI gets it and refuses it as an option.
    const unknown = await spawnCollect(BINARY, ['--berth-entry=shell'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^berth: error: unknown option '--berth-entry=shell'/);
  });
});

describe('the working directory is not configuration', () => {
  it('ignores .env and bunfig.toml where docker starts the helper', async () => {
    const marker = join(dir, 'preloaded');
    await writeFile(join(dir, '.env'), 'BERTH_STORE=pass\nBERTH_CONFIG=/nonexistent/berth.json\n');
    await writeFile(join(dir, 'preload.js'), `require('fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n`);
    await writeFile(join(dir, 'bunfig.toml'), 'preload = ["./preload.js"]\n');
    const stored = await run('binary', 'helper', ['store'], JSON.stringify({ ServerURL: 'ghcr.io', Username: 'octocat', Secret: 'ghp_x' }));
    expect(stored).toMatchObject({ stdout: '', stderr: '', code: 0 });
    expect(await run('binary', 'helper', ['list'])).toMatchObject({ stdout: '{"ghcr.io":"octocat"}\n', stderr: '', code: 0 });
    expect(existsSync(marker)).toBe(false);
  });
});

describe('runtime flags in the environment', () => {
  /** The helper started with BUN_OPTIONS; a start that hangs is killed after 10 s. */
  const helper = (flags: string, action: string, stdin: string) => {
    const command = berthCommand('helper', 'binary');
    return spawnCollect(command.file, [...command.args, action], { ...env, BUN_OPTIONS: flags }, { stdin, cwd: dir, timeoutMs: 10_000 });
  };
  const login = JSON.stringify({ ServerURL: 'ghcr.io', Username: 'octocat', Secret: 'ghp_x' });
  const answer = '{"ServerURL":"ghcr.io","Username":"octocat","Secret":"ghp_x"}\n';

  it('drops BUN_OPTIONS: under --watch the helper still answers and exits, and no profile is written where it starts', async () => {
    expect(await helper('--watch --heap-prof', 'store', login)).toMatchObject({ stdout: '', stderr: '', code: 0 });
    expect(await helper('--watch --heap-prof', 'get', 'ghcr.io')).toMatchObject({ stdout: answer, stderr: '', code: 0 });
    expect((await readdir(dir)).filter((name) => name.endsWith('.heapprofile'))).toEqual([]);
  });

  it('leaves a CPU profile asked for in BUN_OPTIONS to run, and every call still answers', async () => {
    expect(await helper('', 'store', login)).toMatchObject({ code: 0 });
    for (let i = 0; i < 30; i++) expect(await helper('--cpu-prof', 'get', 'ghcr.io')).toMatchObject({ stdout: answer, code: 0 });
  });
});

describe('agrees with the Node build', () => {
  it.each([
    ['binary', 'node', []],
    ['node', 'binary', []],
    ['binary', 'node', ['--armor']],
    ['node', 'binary', ['--armor']],
  ] as const)('a file encrypted by the %s build decrypts with the %s build (%o)', async (writer, reader, flags) => {
    const plaintext = Buffer.concat([Buffer.from('{"auths":{}}\n'), Buffer.alloc(200_000, 7)]); // several 64 KiB chunks
    await writeFile(join(dir, 'plain'), plaintext);
    expect((await run(writer, 'berth', ['keygen'])).code).toBe(0);
    const encrypted = await run(writer, 'berth', ['encrypt', ...flags, 'plain', 'plain.enc']);
    expect(encrypted).toMatchObject({ stderr: '', code: 0 });
    const decrypted = await run(reader, 'berth', ['decrypt', 'plain.enc', 'plain.out']);
    expect(decrypted).toMatchObject({ stderr: '', code: 0 });
    expect((await readFile(join(dir, 'plain.out'))).equals(plaintext)).toBe(true);
  });

  it('concurrent stores from processes of both builds share the lock: no entry is lost', async () => {
    const stores = Array.from({ length: 16 }, (_, i) =>
      run(
        i % 2 === 0 ? 'binary' : 'node',
        'helper',
        ['store'],
        JSON.stringify({ ServerURL: `r${i}.example`, Username: `u${i}`, Secret: `s${i}` }),
      ),
    );
    for (const result of await Promise.all(stores)) expect(result).toMatchObject({ stdout: '', stderr: '', code: 0 });
    const listed = JSON.parse((await run('binary', 'helper', ['list'])).stdout) as Record<string, string>;
    expect(Object.keys(listed).sort()).toEqual(Array.from({ length: 16 }, (_, i) => `r${i}.example`).sort());
    expect(JSON.parse((await run('node', 'helper', ['get'], 'r3.example')).stdout)).toMatchObject({ Secret: 's3' });
  });
});

describe('runtime', () => {
  const healthy = (socket: string) =>
    daemonRequest(socket, { path: '/healthz', connectTimeoutMs: 1000, responseTimeoutMs: 1000 }).then(
      (reply) => reply.status === 200,
      () => false,
    );
  const until = async (done: () => Promise<boolean>, what: string) => {
    for (const deadline = Date.now() + 30_000; !(await done()); await new Promise((r) => setTimeout(r, 100))) {
      if (Date.now() > deadline) throw new Error(`${what} within 30 s`);
    }
  };

  it('the helper auto-starts the daemon by re-executing its own file, started under the helper name', async () => {
    const helper = await named('docker-credential-berth', 'symlink');
    const got = await spawnCollect(helper, ['get'], { ...env, BERTH_DAEMON_AUTOSTART: '1' }, { stdin: 'ghcr.io' });
    expect(got).toMatchObject({ stdout: 'credentials not found in native keychain\n', code: 1 });
    const socket = join(dir, 'run', 'berth', 'daemon.sock');
    try {
      await until(() => healthy(socket), 'the auto-started daemon did not answer');
    } finally {
      const stopped = await run('binary', 'berth', ['daemon', 'stop']);
      expect(stopped.stdout).toMatch(/^berth daemon (stopped|is not running)/);
    }
  });

  it('a foreground daemon stops on SIGINT (Ctrl-C): exit 0, socket removed', async () => {
    const socket = join(dir, 'run', 'berth', 'daemon.sock');
    const child = spawn(BINARY, ['daemon', 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr.on('data', (chunk) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await until(() => healthy(socket), 'the daemon did not answer');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/SIGINT: shutting down/);
    expect(existsSync(socket)).toBe(false);
  });

  const missing = skipUnlessTools(SECRET_SERVICE_TOOLS);
  describe.skipIf(missing)('the keychain addon', () => {
    let bus: SessionBus;
    beforeAll(async () => {
      bus = await startSecretService();
    });
    afterAll(() => bus?.stop());

    it('is carried in the file: a copy far from node_modules stores and reads through Secret Service', async () => {
      const alone = await named('docker-credential-berth', 'copy');
      const keychainEnv = { ...env, DBUS_SESSION_BUS_ADDRESS: bus.address, BERTH_STORE: 'keychain' };
      const creds = JSON.stringify({ ServerURL: 'quay.io', Username: 'org+robot', Secret: 'kc-standalone-5Tq' });
      expect(await spawnCollect(alone, ['store'], keychainEnv, { stdin: creds })).toMatchObject({ stdout: '', code: 0 });
      const got = await spawnCollect(alone, ['get'], keychainEnv, { stdin: 'quay.io' });
      expect(got).toMatchObject({ stderr: '', code: 0 });
      expect(JSON.parse(got.stdout)).toEqual({ ServerURL: 'quay.io', Username: 'org+robot', Secret: 'kc-standalone-5Tq' });
      // The Node build reads the same keychain entry through the addon in node_modules.
      const fromNode = await run('node', 'helper', ['get'], 'quay.io', { DBUS_SESSION_BUS_ADDRESS: bus.address, BERTH_STORE: 'keychain' });
      expect(JSON.parse(fromNode.stdout)).toMatchObject({ Secret: 'kc-standalone-5Tq' });
    }, 120_000);

    /** store, then get, through the keychain with `tmpdir` as TMPDIR; `wrap` runs the helper inside another command. */
    async function roundTrip(tmpdir: string, wrap: string[] = []): Promise<void> {
      const keychainEnv = { ...env, DBUS_SESSION_BUS_ADDRESS: bus.address, BERTH_STORE: 'keychain', TMPDIR: tmpdir };
      const helper = [...wrap, await named('docker-credential-berth', 'symlink')];
      const call = (action: string, stdin: string) => spawnCollect(helper[0]!, [...helper.slice(1), action], keychainEnv, { stdin });
      const creds = JSON.stringify({ ServerURL: 'quay.io', Username: 'org+robot', Secret: 'kc-tmpdir-9Rw' });
      expect(await call('store', creds)).toMatchObject({ stdout: '', stderr: '', code: 0 });
      const got = await call('get', 'quay.io');
      expect(got).toMatchObject({ stderr: '', code: 0 });
      expect(JSON.parse(got.stdout)).toMatchObject({ Secret: 'kc-tmpdir-9Rw' });
      // loaded from the cache directory, whose copy is removed once loaded
      expect(await readdir(join(dir, 'cache', 'berth', 'addons'))).toEqual([]);
    }

    it('loads from its cache directory when TMPDIR names no directory (the runtime unpacks the addon there)', async () => {
      await roundTrip(join(dir, 'no-such-dir'));
    }, 120_000);

    const canMount = process.getuid?.() === 0 && findProgram('unshare') !== undefined;
    it.skipIf(!canMount && !process.env.CI)(
      'loads from its cache directory when TMPDIR is mounted noexec (a hardened /tmp)',
      async () => {
        if (!canMount) throw new Error('mounting a noexec TMPDIR needs root and unshare (util-linux)');
        const noexec = join(dir, 'noexec');
        await mkdir(noexec);
        const script = `mount -t tmpfs -o noexec,size=16m berth-noexec ${noexec} && exec "$@"`;
        await roundTrip(noexec, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', script, 'sh']);
      },
      120_000,
    );
  });
});
