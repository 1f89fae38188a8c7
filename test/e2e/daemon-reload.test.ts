/**
 * The real `berth daemon` (the built CLI) starts warm and follows changes: every configured registry
 * is fetched at start, `berth daemon reload` takes the caller's variables (one unset in the shell is
 * unset in the daemon), `registries add` reloads a running daemon, SIGHUP re-reads the config file,
 * and `install-unit` writes a unit that starts this berth by its absolute path.
 */
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { spawnCollect } from './harness/clients.js';
import { distFile, startDaemonProcess, tempHome, type DaemonProcess } from './harness/daemon.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HOST = 'registry.example.test';

async function credentials(daemon: DaemonProcess, host = HOST) {
  const reply = await daemon.request(`/v1/credentials?registry=${host}`);
  return { status: reply.status, body: JSON.parse(reply.body) as { Username?: string; Secret?: string; error?: string } };
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('berth daemon: warm start, reload, install-unit', { timeout: 60_000 }, () => {
  it('fetches configured registries at start, and reload takes the shell’s variables and the new config', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const env = Object.fromEntries(Object.entries(home.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const berth = (args: string[], extra: Record<string, string> = {}) =>
      spawnCollect(process.execPath, [distFile('berth.js'), ...args], { ...env, ...extra });
    const options = ['-o', 'usernameEnv=REG_USER', '-o', 'passwordEnv=REG_PW'];
    expect((await berth(['registries', 'add', 'reg', '--provider', 'static', '--host', HOST, ...options])).code).toBe(0);

    const socketPath = join(home.env.XDG_RUNTIME_DIR!, 'berth', 'daemon.sock');
    const daemon = await startDaemonProcess(
      distFile('berth.js'),
      ['daemon', 'start'],
      { ...env, REG_USER: 'alice', REG_PW: 'pw-1' },
      socketPath,
    );
    cleanups.push(() => daemon.stop());

    // Warm: the registry has a token before anyone asked for it.
    const warm = await waitFor(async () => {
      const status = JSON.parse((await daemon.request('/v1/status')).body) as {
        registries: { registryHost: string; fetchedAt?: string }[];
      };
      return status.registries.find((registry) => registry.registryHost === HOST && registry.fetchedAt);
    }, 'the warm-up fetch');
    expect(warm.fetchedAt).toBeDefined();
    const status = await berth(['daemon', 'status']);
    expect(status.stdout).not.toMatch(/no registry requested yet/);
    expect(status.stdout).toContain(HOST);
    expect(await credentials(daemon)).toMatchObject({ status: 200, body: { Username: 'alice', Secret: 'pw-1' } });

    // The variables are unset in the shell: after reload the daemon no longer has them.
    const unset = await berth(['daemon', 'reload']);
    expect(unset).toMatchObject({ code: 0, stdout: 'berth daemon reloaded: 1 configured registry\n' });
    const refused = await credentials(daemon);
    expect(refused.status).toBe(502);
    expect(refused.body.error).toMatch(/REG_USER is not set/);
    expect(JSON.stringify(refused.body)).not.toContain('pw-1');

    expect((await berth(['daemon', 'reload'], { REG_USER: 'bob', REG_PW: 'pw-2' })).code).toBe(0);
    expect(await credentials(daemon)).toMatchObject({ status: 200, body: { Username: 'bob', Secret: 'pw-2' } });

    // registries add reloads the running daemon (with the caller's variables).
    const added = await berth(['registries', 'add', 'more', '--provider', 'static', '--host', 'more.example.test', ...options], {
      REG_USER: 'carol',
      REG_PW: 'pw-3',
    });
    expect(added.stdout).toMatch(/^added registry more .*\nreloaded the running berth daemon\n$/);
    expect(await credentials(daemon, 'more.example.test')).toMatchObject({ status: 200, body: { Username: 'carol' } });

    // SIGHUP re-reads the config file.
    const configPath = join(home.env.XDG_CONFIG_HOME!, 'berth', 'config.json');
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { registries: unknown[] };
    await writeFile(configPath, JSON.stringify({ registries: config.registries.slice(0, 1) }));
    const before = daemon.output().length;
    daemon.child.kill('SIGHUP');
    const reloaded = () => daemon.output().slice(before);
    await waitFor(
      async () => (/SIGHUP: reloading\n.*reload: 1 configured registry\n/s.test(reloaded()) ? true : undefined),
      'the SIGHUP reload',
    );
    expect((await credentials(daemon, 'more.example.test')).status).not.toBe(200);
    expect(daemon.output()).not.toMatch(/pw-[123]/);
  });

  it('install-unit writes the user unit with the absolute path of the running berth', async () => {
    const home = await tempHome();
    cleanups.push(home.cleanup);
    const env = Object.fromEntries(Object.entries(home.env).filter((entry): entry is [string, string] => entry[1] !== undefined));
    const run = (args: string[]) => spawnCollect(process.execPath, [distFile('berth.js'), 'daemon', 'install-unit', ...args], env);
    const written = await run([]);
    const unitPath = join(home.env.XDG_CONFIG_HOME!, 'systemd/user/berth-daemon.service');
    expect(written).toMatchObject({ code: 0, stdout: expect.stringContaining(`wrote ${unitPath}`) });
    const unit = await readFile(unitPath, 'utf8');
    expect(unit).toContain(`\nExecStart=${process.execPath} ${distFile('berth.js')} daemon start\n`);
    expect(unit).toContain('\nExecReload=/bin/kill -HUP $MAINPID\n');
    expect((await run([])).code).toBe(1); // never overwrites without --force
    expect((await run(['--force'])).code).toBe(0);
    expect((await run(['-o', '-'])).stdout).toBe(unit);
    const verify = spawnSync('systemd-analyze', ['verify', '--user', unitPath], { encoding: 'utf8' });
    if (verify.error === undefined) expect(verify.stderr).not.toMatch(/ExecStart|Invalid|Unknown/);
  });
});
