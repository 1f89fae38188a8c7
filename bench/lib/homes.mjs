// What several benchmarks set up alike: a scratch home with its XDG directories, and gnome-keyring
// in the current D-Bus session.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/** An environment whose HOME and XDG directories are `work/name` (made 0700), with PATH. */
export function benchHome(work, name) {
  const dir = join(work, name);
  for (const sub of ['run', 'config', 'cache', 'data']) mkdirSync(join(dir, sub), { recursive: true, mode: 0o700 });
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_RUNTIME_DIR: join(dir, 'run'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
}

/**
 * gnome-keyring in `env`'s D-Bus session, unlocked, once it owns org.freedesktop.secrets (asking
 * before then may make D-Bus activate a second daemon). The caller stops the returned process.
 */
export async function startKeyring(env) {
  const daemon = spawn('gnome-keyring-daemon', ['--foreground', '--unlock', '--components=secrets'], {
    env,
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  daemon.stdin.end('bench-keyring-password');
  const ask = [
    '--session',
    '--print-reply',
    '--dest=org.freedesktop.DBus',
    '/org/freedesktop/DBus',
    'org.freedesktop.DBus.NameHasOwner',
    'string:org.freedesktop.secrets',
  ];
  const deadline = Date.now() + 20_000;
  while (!spawnSync('dbus-send', ask, { env, encoding: 'utf8' }).stdout?.includes('true')) {
    if (Date.now() > deadline) {
      daemon.kill('SIGTERM');
      throw new Error('gnome-keyring did not take org.freedesktop.secrets within 20 s');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return daemon;
}
