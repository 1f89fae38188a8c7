import { spawn } from 'node:child_process';
import { chmod, lstat, mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonRequest } from '../../core/resolve/daemon-client.js';
import { DaemonStartError, closeGracefully, listenTcp, listenUnix, prepareSocketDir, replaceStaleSocket } from '../../daemon/server.js';
import { tempDir } from '../fakes/temp.js';

/** Leaves a socket file behind the way a crashed daemon does: its process killed with SIGKILL. */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`]);
  await new Promise<void>((resolve, reject) => {
    child.stdout.once('data', () => resolve());
    child.once('error', reject);
  });
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  expect((await lstat(path)).isSocket()).toBe(true);
}

const hello = (_req: unknown, res: { end(text: string): void }) => res.end('hello');

describe('prepareSocketDir', () => {
  it('creates the directory with mode 0700 (parents too)', async () => {
    const dir = join(await tempDir('berth-srv-'), 'a', 'berth');
    await prepareSocketDir(dir);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
  });

  it('accepts an existing 0700 directory and refuses one others can enter', async () => {
    const dir = join(await tempDir('berth-srv-'), 'berth');
    await mkdir(dir, { mode: 0o700 });
    await prepareSocketDir(dir);
    await chmod(dir, 0o755);
    await expect(prepareSocketDir(dir)).rejects.toThrow(/accessible to other users \(mode 755\)/);
    await chmod(dir, 0o710);
    await expect(prepareSocketDir(dir)).rejects.toBeInstanceOf(DaemonStartError);
  });

  it('refuses a file in its place', async () => {
    const dir = join(await tempDir('berth-srv-'), 'berth');
    await writeFile(dir, '');
    await expect(prepareSocketDir(dir)).rejects.toThrow(/not a directory/);
  });
});

describe('replaceStaleSocket', () => {
  it('removes a socket nobody answers on', async () => {
    const path = join(await tempDir('berth-srv-'), 's.sock');
    await staleSocket(path);
    await replaceStaleSocket(path);
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses while a daemon answers there, and leaves its socket alone', async () => {
    const dir = await tempDir('berth-srv-');
    const path = join(dir, 'berth', 's.sock');
    const server = await listenUnix(hello, path);
    try {
      await expect(replaceStaleSocket(path)).rejects.toThrow(/already running/);
      await expect(listenUnix(hello, path)).rejects.toThrow(/already running/);
      expect((await daemonRequest(path, { path: '/', connectTimeoutMs: 10_000 })).body).toBe('hello');
    } finally {
      await closeGracefully(server);
    }
  });

  it('refuses to remove something that is not a socket', async () => {
    const path = join(await tempDir('berth-srv-'), 's.sock');
    await writeFile(path, 'precious');
    await expect(replaceStaleSocket(path)).rejects.toThrow(/not a socket/);
  });
});

describe('listenUnix', () => {
  it('creates the socket 0600 in a 0700 directory, replacing a stale one', async () => {
    const dir = join(await tempDir('berth-srv-'), 'berth');
    const path = join(dir, 'daemon.sock');
    await mkdir(dir, { mode: 0o700 });
    await staleSocket(path);
    const server = await listenUnix(hello, path);
    try {
      expect((await lstat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(dir)).mode & 0o777).toBe(0o700);
      expect((await daemonRequest(path, { path: '/', connectTimeoutMs: 10_000 })).body).toBe('hello');
    } finally {
      await closeGracefully(server);
    }
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('two daemons starting at once: exactly one listens', async () => {
    const path = join(await tempDir('berth-srv-'), 'berth', 'daemon.sock');
    const results = await Promise.allSettled([listenUnix(hello, path), listenUnix(hello, path), listenUnix(hello, path)]);
    const up = results.filter((r) => r.status === 'fulfilled');
    expect(up).toHaveLength(1);
    await closeGracefully((up[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof listenUnix>>>).value);
  });

  it('refuses a socket path longer than the kernel allows', async () => {
    const path = join(await tempDir('berth-srv-'), 'x'.repeat(120), 'daemon.sock');
    await expect(listenUnix(hello, path)).rejects.toThrow(/socket path too long/);
  });
});

describe('listenTcp', () => {
  it.each(['0.0.0.0', '192.168.1.10', '::'])('refuses the non-loopback address %s', async (host) => {
    await expect(listenTcp(hello, host, 0)).rejects.toThrow(/only a loopback address/);
  });
});

describe('closeGracefully', () => {
  it('finishes a request in flight, refuses new connections, removes the socket', async () => {
    const path = join(await tempDir('berth-srv-'), 'berth', 'daemon.sock');
    let finish: () => void = () => undefined;
    let arrived: () => void = () => undefined;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const server = await listenUnix((_req, res) => {
      arrived();
      finish = () => res.end('finished');
    }, path);
    const inFlight = daemonRequest(path, { path: '/slow', connectTimeoutMs: 10_000, responseTimeoutMs: 30_000 });
    await arrival;
    const closing = closeGracefully(server);
    await expect(daemonRequest(path, { path: '/', connectTimeoutMs: 10_000 })).rejects.toThrow(/ENOENT|ECONNREFUSED/);
    finish();
    expect((await inFlight).body).toBe('finished');
    await closing;
    await expect(lstat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
