/**
 * @module
 * A private D-Bus session bus, optionally with gnome-keyring's Secret Service on it, for tests of the
 * keychain store. The bus has no service directories, so nothing is auto-started behind the test's
 * back (DESIGN §8: a request before the name is owned could start a second daemon); the keyring
 * daemon is started unlocked, with its password on stdin, and the bus is polled until it owns
 * `org.freedesktop.secrets`. `stop()` ends both processes and removes the temporary directory.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { TOOLS, type Tool } from './tools.js';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

const run = promisify(execFile);

export const SECRET_SERVICE_TOOLS: Tool[] = [TOOLS.dbusDaemon, TOOLS.dbusSend, TOOLS.gnomeKeyring, TOOLS.secretTool];

export interface SessionBus {
  address: string;
  dir: string;
  /** The environment for anything that should talk to this bus (and keep its files in `dir`). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

function busConfig(socketDir: string): string {
  return `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=${socketDir}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;
}

/** A bare session bus: nothing owns `org.freedesktop.secrets` on it. */
export async function startSessionBus(): Promise<SessionBus> {
  return (await launchBus()).bus;
}

/** A session bus with an unlocked gnome-keyring Secret Service on it. */
export async function startSecretService(): Promise<SessionBus> {
  const { bus, children } = await launchBus();
  try {
    const keyring = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
      env: { PATH: process.env.PATH ?? '', ...bus.env },
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    children.push(keyring);
    keyring.stdin?.end('berth-test-password');
    await waitForName(bus, 'org.freedesktop.secrets', keyring);
    return bus;
  } catch (err) {
    await bus.stop();
    throw err;
  }
}

async function launchBus(): Promise<{ bus: SessionBus; children: ChildProcess[] }> {
  const dir = await fixtureDir('berth-dbus-');
  await mkdir(join(dir, 'run'), { mode: 0o700 });
  await writeFile(join(dir, 'bus.conf'), busConfig(join(dir, 'run')));
  const daemon = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--print-address=1'], {
    // stderr only carries warnings about rlimits the sandbox refuses; the address comes on stdout.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const children: ChildProcess[] = [daemon];
  const stop = async () => {
    for (const child of [...children].reverse()) await stopProcess(child);
    await removeDir(dir);
  };
  let address: string;
  try {
    address = await firstLine(daemon);
  } catch (err) {
    await stop();
    throw err;
  }
  const env = {
    DBUS_SESSION_BUS_ADDRESS: address,
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'config'),
  };
  return { bus: { address, dir, env, stop }, children };
}

/** Polls the bus until `name` has an owner (the daemon registers it a moment after starting). */
async function waitForName(bus: SessionBus, name: string, owner: ChildProcess, timeoutMs = 60_000): Promise<void> {
  let stderr = '';
  owner.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (owner.exitCode !== null) throw new Error(`${name} owner exited (${owner.exitCode}): ${stderr}`);
    const { stdout } = await run(
      'dbus-send',
      [
        '--session',
        '--print-reply',
        '--dest=org.freedesktop.DBus',
        '/org/freedesktop/DBus',
        'org.freedesktop.DBus.NameHasOwner',
        `string:${name}`,
      ],
      { env: { PATH: process.env.PATH ?? '', ...bus.env } },
    );
    if (/boolean true/.test(stdout)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing owned ${name} on ${bus.address} within ${timeoutMs / 1000}s: ${stderr}`);
}

/** Locks the default collection, as a screen lock or `secret-tool lock` would. */
export async function lockKeyring(bus: SessionBus): Promise<void> {
  await run(
    'dbus-send',
    [
      '--session',
      '--print-reply',
      '--dest=org.freedesktop.secrets',
      '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.Lock',
      'array:objpath:/org/freedesktop/secrets/collection/login',
    ],
    { env: { PATH: process.env.PATH ?? '', ...bus.env } },
  );
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`dbus-daemon exited (${code}) without printing its address`)));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
