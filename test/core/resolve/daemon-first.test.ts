import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonFirst } from '../../../core/resolve/daemon-first.js';
import { tempDir } from '../../fakes/temp.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function home() {
  const dir = await tempDir('berth-first-');
  const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config'), BERTH_DAEMON_SOCKET: join(dir, 'd.sock') };
  return { dir, env };
}

async function fakeDaemon(socketPath: string): Promise<void> {
  const server: Server = createServer((_req, res) => res.end(JSON.stringify({ Username: 'AWS', Secret: 'from-daemon' })));
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
}

const direct = async (_serverURL: string) => ({ username: 'u', secret: 'direct' });

describe('daemonFirst', () => {
  it('uses the daemon when it answers, without resolving directly', async () => {
    const { env } = await home();
    await fakeDaemon(env.BERTH_DAEMON_SOCKET);
    let directCalls = 0;
    const timeouts = { connectTimeoutMs: 10_000, responseTimeoutMs: 30_000 }; // a loaded machine
    const resolve = daemonFirst(env, { direct: async (url) => (directCalls++, direct(url)), timeouts });
    expect(await resolve('ghcr.io')).toEqual({ username: 'AWS', secret: 'from-daemon' });
    expect(directCalls).toBe(0);
  });

  it('resolves a host split by repository prefix directly: the daemon answers per host', async () => {
    const { env } = await home();
    await fakeDaemon(env.BERTH_DAEMON_SOCKET);
    const registries = [
      { name: 'team-a', provider: 'static' as const, host: 'quay.example.com', prefix: 'team-a' },
      { name: 'team-b', provider: 'static' as const, host: 'quay.example.com', prefix: 'team-b' },
    ];
    const loadConfig = async () => ({ path: '', exists: true, config: { registries }, problems: [] });
    const asked: string[] = [];
    const resolve = daemonFirst(env, { direct: async (url) => (asked.push(url), direct(url)), loadConfig });
    expect(await resolve('quay.example.com/team-b/app')).toMatchObject({ secret: 'direct' });
    expect(asked).toEqual(['quay.example.com/team-b/app']);
    // other hosts still go to the daemon
    expect(await resolve('ghcr.io')).toMatchObject({ secret: 'from-daemon' });
  });

  it('resolves directly when no daemon runs, quietly', async () => {
    const { env } = await home();
    const warnings: string[] = [];
    const resolve = daemonFirst(env, { direct, warn: (line) => warnings.push(line) });
    expect(await resolve('ghcr.io')).toMatchObject({ secret: 'direct' });
    expect(warnings).toEqual([]);
  });

  it('reads its timeouts from the environment', async () => {
    const { env } = await home();
    const connections: Socket[] = [];
    const silent = createNetServer((socket) => connections.push(socket)); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(env.BERTH_DAEMON_SOCKET, resolve));
    cleanups.push(async () => {
      for (const socket of connections) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    });
    const warnings: string[] = [];
    const started = Date.now();
    const resolve = daemonFirst({ ...env, BERTH_DAEMON_TIMEOUT_MS: '200' }, { direct, warn: (line) => warnings.push(line) });
    expect(await resolve('ghcr.io')).toMatchObject({ secret: 'direct' });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(warnings.join('\n')).toMatch(/no answer within 200 ms; resolving directly/);
  });

  it('without a direct path and no daemon, nothing is found', async () => {
    const { env } = await home();
    expect(await daemonFirst(env)('ghcr.io')).toBeUndefined();
  });

  it('auto-starts the daemon only when asked to (config daemon.autoStart)', async () => {
    const { dir, env } = await home();
    const marker = join(dir, 'started');
    const script = join(dir, 'fake-berth.mjs');
    await writeFile(
      script,
      `import { writeFileSync } from 'node:fs'; writeFileSync(${JSON.stringify(marker)}, process.argv.slice(2).join(' '));`,
    );
    await daemonFirst(env, { direct, berthScript: script })('ghcr.io');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await expect(readFile(marker, 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });

    await writeFile(join(dir, 'config.json'), JSON.stringify({ daemon: { autoStart: true } }));
    const withConfig = { ...env, BERTH_CONFIG: join(dir, 'config.json') };
    expect(await daemonFirst(withConfig, { direct, berthScript: script })('ghcr.io')).toMatchObject({ secret: 'direct' });
    const deadline = Date.now() + 20_000;
    let args: string | undefined;
    while (args === undefined && Date.now() < deadline) {
      args = await readFile(marker, 'utf8').catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(args).toBe('daemon start --detach');
  });
});
