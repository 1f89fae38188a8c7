/**
 * What only the keychain store does (the Store contract is in store.test.ts), against a real
 * gnome-keyring Secret Service on a private D-Bus session bus, driven through the built helper as
 * docker drives it: one process per action.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialsJSON, requireBuiltHelper, runHelper, tempHome, type HelperResult } from '../../e2e/harness/run-berth-helper.js';
import {
  SECRET_SERVICE_TOOLS,
  lockKeyring,
  startSecretService,
  startSessionBus,
  type SessionBus,
} from '../../e2e/harness/secret-service.js';
import { skipUnlessTools } from '../../e2e/harness/tools.js';

const run = promisify(execFile);
const missing = skipUnlessTools(SECRET_SERVICE_TOOLS);
const SECRET = 'kc-secret-7f3a9d';

/** An error as the protocol wants it: one line on stdout, exit 1, no stack anywhere. */
function expectOneLineError(result: HelperResult, pattern: RegExp): void {
  expect(result.code).toBe(1);
  expect(result.stdout.endsWith('\n')).toBe(true);
  expect(result.stdout.trimEnd().split('\n')).toHaveLength(1);
  expect(result.stdout).toMatch(pattern);
  expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m);
}

function expectNoSecretInStderr(results: HelperResult[], secret: string): void {
  for (const result of results) expect(result.stderr).not.toContain(secret);
}

const FILE_STORE_ADVICE = /BERTH_STORE=file, or "store": "file" in \S+config\.json/;

// Each helper run is a fresh process talking to gnome-keyring: seconds apiece on a loaded machine.
describe.skipIf(missing)('keychain store on a Secret Service (gnome-keyring)', { timeout: 180_000 }, () => {
  let bus: SessionBus;
  let home: Awaited<ReturnType<typeof tempHome>>;
  const env = () => ({ ...home.env, DBUS_SESSION_BUS_ADDRESS: bus.address, BERTH_STORE: 'keychain' });
  const helper = (action: string, input?: string) => runHelper(action, { env: env(), input });

  beforeAll(async () => {
    requireBuiltHelper();
    [bus, home] = await Promise.all([startSecretService(), tempHome()]);
  });
  afterAll(async () => {
    await Promise.all([bus?.stop(), home?.remove()]);
  });

  it('keeps each registry as a real Secret Service item (service "berth", account = registry key)', async () => {
    await helper('store', credentialsJSON('quay.io', 'org+robot', SECRET));
    const { stdout } = await run('secret-tool', ['lookup', 'service', 'berth', 'username', 'quay.io'], {
      env: { PATH: process.env.PATH, ...bus.env },
    });
    expect(JSON.parse(stdout)).toEqual({ ServerURL: 'quay.io', Username: 'org+robot', Secret: SECRET });
  });

  it('without a session bus: one line saying how to switch to the file store', async () => {
    const result = await runHelper('get', { env: { ...home.env, BERTH_STORE: 'keychain' }, input: 'ghcr.io' });
    expectOneLineError(result, /DBUS_SESSION_BUS_ADDRESS is not set/);
    expect(result.stdout).toMatch(FILE_STORE_ADVICE);
  });

  it('with a bus address nobody listens on: one line with the hint', async () => {
    const address = `unix:path=${join(home.dir, 'no-bus-here')}`;
    const result = await runHelper('list', { env: { ...env(), DBUS_SESSION_BUS_ADDRESS: address } });
    expectOneLineError(result, /cannot connect to the D-Bus session bus .*ENOENT/);
    expect(result.stdout).toMatch(FILE_STORE_ADVICE);
  });

  it('on a bus without a Secret Service: one line with the hint', async () => {
    const bare = await startSessionBus();
    try {
      const result = await runHelper('store', {
        env: { ...env(), DBUS_SESSION_BUS_ADDRESS: bare.address },
        input: credentialsJSON('ghcr.io', 'octocat', SECRET),
      });
      expectOneLineError(result, /no Secret Service \(org\.freedesktop\.secrets\)/);
      expect(result.stdout).toMatch(FILE_STORE_ADVICE);
      expectNoSecretInStderr([result], SECRET);
    } finally {
      await bare.stop();
    }
  });

  it('on a bus that accepts connections and never answers: an error within the deadline, no hang', async () => {
    const sockets: Socket[] = [];
    const path = join(home.dir, 'silent-bus');
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(path, resolve));
    try {
      const result = await runHelper('get', { env: { ...env(), DBUS_SESSION_BUS_ADDRESS: `unix:path=${path}` }, input: 'ghcr.io' });
      expectOneLineError(result, /did not answer within \d+s/);
      expect(result.stdout).toMatch(FILE_STORE_ADVICE);
      expect(result.ms).toBeLessThan(30_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  // Last: the collection stays locked afterwards (unlocking needs a prompt nobody can answer here).
  it('with the keyring locked: one line saying so, with the hint', async () => {
    await lockKeyring(bus);
    const stored = await helper('store', credentialsJSON('ghcr.io', 'octocat', SECRET));
    expectOneLineError(stored, /the keychain is locked/);
    expect(stored.stdout).toMatch(FILE_STORE_ADVICE);
    expectOneLineError(await helper('list'), /the keychain is locked/);
    expectNoSecretInStderr([stored], SECRET);
  });
});
