/**
 * @module
 * A native addon the standalone executable carries, loaded from a directory of berth's own. Bun
 * loads an embedded addon by writing it to `$TMPDIR` (else /tmp) and opening it from there, so on a
 * machine whose /tmp is mounted noexec (a common hardening), read-only, or named by a TMPDIR that
 * does not exist, the keychain store would not load. Then the addon is written to a new file in
 * `addons/` in berth's cache directory (0700, this user's), the file is removed at once, and the
 * library is opened through the descriptor it was written with: what is loaded is exactly what was
 * written, whoever else could reach the directory, and no copy is left behind, not even by a kill.
 */
import { chmod, lstat, mkdir, open, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from './path.js';
import { berthCacheDir, type Env } from '../paths.js';

interface EmbeddedFile extends Blob {
  name?: string;
}

/**
 * The exports of the embedded addon whose file name starts with `prefix` (e.g. `keyring.`). A
 * failure is thrown as one message that starts with the directory.
 */
export async function loadEmbeddedAddon(env: Env, prefix: string): Promise<unknown> {
  const embedded = (globalThis as { Bun?: { embeddedFiles?: readonly EmbeddedFile[] } }).Bun?.embeddedFiles?.find(
    (file) => file.name?.startsWith(prefix) && file.name.endsWith('.node'),
  );
  if (!embedded) throw new Error(`this executable carries no ${prefix}*.node`);
  const dir = join(berthCacheDir(env), 'addons');
  try {
    return await loadFrom(dir, embedded);
  } catch (err) {
    const message = (err as Error).message.replace(/^\/proc\/self\/fd\/\d+: /, '');
    throw new Error(`${dir}: ${message}`, { cause: err });
  }
}

async function loadFrom(dir: string, embedded: Blob): Promise<unknown> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) throw new Error("not a directory of this user's");
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
  const file = join(dir, `.${Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex')}.node`);
  const handle = await open(file, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY | constants.O_NOFOLLOW, 0o700);
  try {
    await unlink(file);
    await handle.writeFile(new Uint8Array(await embedded.arrayBuffer()));
    const module = { exports: {} };
    process.dlopen(module, `/proc/self/fd/${handle.fd}`);
    return module.exports;
  } finally {
    await handle.close();
  }
}
