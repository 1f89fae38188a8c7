/**
 * @module
 * Keys for encrypted files: 32 random bytes kept as one line of base64 (44 characters), the same
 * shape as a `codeship.aes` key. A key is named by its key id, an HMAC of a fixed label, so the id
 * can be printed and stored in files without revealing anything about the key.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { basename, dirname, join } from '../io/path.js';
import { UsageError } from '../errors.js';
import { KeyFormatError } from './errors.js';
import { KEY_BYTES, formatKey, parseKey, readKeyFile, readKeyFileIfExists } from './key-text.js';
import { KEY_ID_BYTES, KEY_ID_LABEL } from './layout.js';

export { formatKey, KEY_BYTES, parseKey, readKeyFile, readKeyFileIfExists };

/** `writeKeyFile` without `force` found a key file already there. */
export class KeyFileExistsError extends UsageError {
  override name = 'KeyFileExistsError';
}

export function generateKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Writes a key file with mode 0600, creating its directory (0700) if needed. Refuses to replace an
 * existing file unless `force`: losing a key loses every file encrypted only for it. The key is
 * written to a temporary file first, so a failure never leaves half a key behind.
 */
export async function writeKeyFile(path: string, key: Uint8Array, { force = false }: { force?: boolean } = {}): Promise<void> {
  if (key.length !== KEY_BYTES) throw new KeyFormatError(`a key is ${KEY_BYTES} bytes, got ${key.length}`);
  // loaded here: every `get` reads a key through this module, and only a new key is written
  const { link, mkdir, open, rename, unlink } = await import('node:fs/promises');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.chmod(0o600);
    await handle.writeFile(formatKey(key));
    await handle.sync();
    await handle.close();
    // link() fails if the target exists, so "check, then create" is one step and two keygens
    // cannot both win; rename() replaces atomically when told to.
    if (force) await rename(temp, path);
    else await link(temp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      throw new KeyFileExistsError(`key file ${path} already exists`, {
        hint: 'use --force to replace it (files encrypted only for the old key can no longer be opened)',
      });
    }
    throw err;
  } finally {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
  }
}

/**
 * The key in `path`, created (0600) on first use. Two processes creating it at once cannot both
 * win: the key is linked into place whole, the loser's link fails, and both read the winner's key.
 */
export async function readOrCreateKeyFile(path: string): Promise<Buffer> {
  const existing = await readKeyFileIfExists(path);
  if (existing) return existing;
  try {
    await writeKeyFile(path, generateKey());
  } catch (err) {
    if (!(err instanceof KeyFileExistsError)) throw err;
  }
  const created = await readKeyFileIfExists(path);
  if (!created) throw new UsageError(`key file ${path} vanished while it was created`);
  return created;
}

/** 16 hex characters: the first 8 bytes of HMAC-SHA256(key, label). */
export function keyId(key: Uint8Array): string {
  return keyIdBytes(key).toString('hex');
}

export function keyIdBytes(key: Uint8Array): Buffer {
  return createHmac('sha256', key).update(KEY_ID_LABEL).digest().subarray(0, KEY_ID_BYTES);
}
