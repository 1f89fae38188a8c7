/**
 * @module
 * A native addon the standalone executable carries, loaded from a directory of berth's own. Bun
 * loads an embedded addon by writing it to `$TMPDIR` (else /tmp) and opening it from there, so on a
 * machine whose /tmp is mounted noexec (a common hardening), read-only, or named by a TMPDIR that
 * does not exist, the keychain store would not load. Then the addon is written to `addons/` in
 * berth's cache directory (0700, this user's), loaded, and its file removed at once: the loaded
 * library stays mapped, and no copy is left to go stale or be swapped.
 */
import { chmod, lstat, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { berthCacheDir, type Env } from '../paths.js';

interface EmbeddedFile extends Blob {
  name?: string;
}

/** The exports of the embedded addon whose file name starts with `prefix` (e.g. `keyring.`). */
export async function loadEmbeddedAddon(env: Env, prefix: string): Promise<unknown> {
  const embedded = (globalThis as { Bun?: { embeddedFiles?: readonly EmbeddedFile[] } }).Bun?.embeddedFiles?.find(
    (file) => file.name?.startsWith(prefix) && file.name.endsWith('.node'),
  );
  if (!embedded) throw new Error(`this executable carries no ${prefix}*.node`);
  const dir = join(berthCacheDir(env), 'addons');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  // Whoever can write to the directory could swap the library before it is opened.
  const info = await lstat(dir);
  if (!info.isDirectory() || info.uid !== process.getuid?.()) throw new Error(`${dir} is not a directory of this user's`);
  if ((info.mode & 0o077) !== 0) await chmod(dir, 0o700);
  const file = join(dir, `.${Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString('hex')}.node`);
  await writeFile(file, new Uint8Array(await embedded.arrayBuffer()), { mode: 0o700, flag: 'wx' });
  try {
    const module = { exports: {} };
    process.dlopen(module, file);
    return module.exports;
  } finally {
    await rm(file, { force: true });
  }
}
