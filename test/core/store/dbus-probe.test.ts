import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BusProbeError, parseBusAddress, probeSecretService } from '../../../core/store/dbus-probe.js';
import { skipUnlessTools, TOOLS } from '../../e2e/harness/tools.js';
import { startSecretService, startSessionBus } from '../../e2e/harness/secret-service.js';
import { removeDir, tempDir } from '../../fakes/temp.js';

describe('parseBusAddress', () => {
  it.each([
    ['unix:path=/run/user/1000/bus', { path: '/run/user/1000/bus' }],
    ['unix:path=/tmp/dbus-x,guid=0123abcd', { path: '/tmp/dbus-x' }],
    ['unix:path=/tmp/with%20space', { path: '/tmp/with space' }],
    ['unix:abstract=/tmp/dbus-Abc,guid=1', { path: '\0/tmp/dbus-Abc' }],
    ['tcp:host=127.0.0.1,port=4711', { host: '127.0.0.1', port: 4711 }],
    ['autolaunch:;unix:path=/second', { path: '/second' }],
  ])('%s', (address, target) => {
    expect(parseBusAddress(address)).toEqual(target);
  });

  it.each(['autolaunch:', 'launchd:env=DBUS_LAUNCHD_SESSION_BUS_SOCKET', 'unix:tmpdir=/tmp', 'garbage'])(
    'refuses %s as unsupported',
    (address) => {
      expect(() => parseBusAddress(address)).toThrow(expect.objectContaining({ reason: 'unsupported-address' }));
    },
  );
});

describe('probeSecretService against misbehaving sockets', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function fakeBus(onConnection: (socket: Socket) => void): Promise<string> {
    const dir = await tempDir('berth-fakebus-');
    const sockets: Socket[] = [];
    const server: Server = createServer((socket) => {
      sockets.push(socket);
      onConnection(socket);
    });
    const path = join(dir, 'bus');
    await new Promise<void>((resolve) => server.listen(path, resolve));
    cleanups.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
      await removeDir(dir);
    });
    return `unix:path=${path}`;
  }

  async function probeError(address: string, timeoutMs = 5_000): Promise<BusProbeError> {
    const err = await probeSecretService(address, timeoutMs).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BusProbeError);
    return err as BusProbeError;
  }

  it('a bus that never answers: a timeout naming the bus, at the deadline', async () => {
    const address = await fakeBus(() => undefined);
    const started = Date.now();
    const err = await probeError(address, 500);
    expect(err.reason).toBe('timeout');
    expect(err.message).toBe(`the D-Bus session bus at ${address} did not answer within 0.5s`);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a bus that refuses authentication', async () => {
    const address = await fakeBus((socket) => socket.once('data', () => socket.write('REJECTED EXTERNAL\r\n')));
    const err = await probeError(address);
    expect(err.reason).toBe('auth');
    expect(err.message).toMatch(/refused authentication \(REJECTED EXTERNAL\)/);
  });

  it('a bus that hangs up', async () => {
    const address = await fakeBus((socket) => socket.end());
    expect((await probeError(address)).reason).toBe('connect');
  });

  it('no socket at the address', async () => {
    const err = await probeError(`unix:path=${join(tmpdir(), 'berth-no-such-bus-socket')}`);
    expect(err.reason).toBe('connect');
    expect(err.message).toMatch(/cannot connect to the D-Bus session bus at .* \(ENOENT\)/);
  });
});

const missing = skipUnlessTools([TOOLS.dbusDaemon, TOOLS.dbusSend, TOOLS.gnomeKeyring]);

describe.skipIf(missing)('probeSecretService against a real dbus-daemon', () => {
  it('a bus with nothing owning org.freedesktop.secrets', async () => {
    const bus = await startSessionBus();
    try {
      const err = await probeSecretService(bus.address, 10_000).catch((e: unknown) => e);
      expect(err).toMatchObject({ reason: 'no-secret-service' });
    } finally {
      await bus.stop();
    }
  });

  it('a bus with gnome-keyring on it answers', async () => {
    const bus = await startSecretService();
    try {
      await expect(probeSecretService(bus.address, 10_000)).resolves.toBeUndefined();
    } finally {
      await bus.stop();
    }
  });
});
