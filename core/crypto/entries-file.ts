/**
 * @module
 * A small file of named entries, encrypted in the berth format: `{"version":1,"entries":{…}}`
 * sealed with the key in a key file made on first write (0600, see `readOrCreateKeyFile`). The
 * credential store (core/store/file.ts) and the token cache (core/resolve/cache.ts) are each one of
 * these. Readers take no lock: the file is replaced atomically, so they see the old one or the new
 * one. Writers hold the lock, read, change and replace, so concurrent writers never lose an entry.
 */
import { BerthError, oneLine } from '../errors.js';
import { readFileIfExists } from '../io/sys.js';
import { readKeyFileIfExists } from './key-text.js';

// The crypto and writing modules are loaded where they are used: a `get` with no file yet needs
// none of them, and a read needs none of the writing ones (the helper's start-up is hot).

export type Entries<E> = Record<string, E>;

/** Why the entries could not be read: no key for an existing file, or a file that cannot be opened. */
export class EntriesFileError extends BerthError {
  override name = 'EntriesFileError';
  constructor(
    readonly reason: 'no-key' | 'unreadable',
    message: string,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? {} : { cause });
  }
}

export interface EntriesFileOptions<E> {
  /** The encrypted file. */
  path: string;
  /** Its key file. */
  keyPath: string;
  /** What the file is, for messages: "the credential store", "the credential cache". */
  what: string;
  /** Checks one decrypted entry's shape (the file is authenticated, so not its origin); throws if bad. */
  checkEntry: (value: unknown) => E;
  /**
   * For a file whose loss costs nothing (a cache): a file that cannot be read counts as empty after
   * this is called, and the next write replaces it. Without it, reads and writes throw.
   */
  onUnreadable?: (err: EntriesFileError) => void;
}

export interface EntriesFile<E> {
  /** The entries; empty when the file does not exist yet. */
  read(): Promise<Entries<E>>;
  /** Under the lock: reads, lets `change` edit the entries in place, writes them back (0600). */
  update(change: (entries: Entries<E>) => void): Promise<void>;
}

export function entriesFile<E>(options: EntriesFileOptions<E>): EntriesFile<E> {
  const { path, keyPath, what } = options;
  const noKey = () => new EntriesFileError('no-key', `${what} ${path} exists but its key file ${keyPath} is missing`);
  /**
   * The key file's key, for a write; undefined when there is neither file nor key yet (the write
   * makes the key). A file whose key is gone is refused as a read refuses it: a new key would not
   * open it, and would stand in the way of putting the old one back. A file that may be replaced
   * (onUnreadable) gets a new key.
   */
  const keyForWrite = async (): Promise<Buffer | undefined> => {
    const existing = await readKeyFileIfExists(keyPath);
    if (existing || options.onUnreadable || (await readFileIfExists(path)) === undefined) return existing;
    // A first writer makes the key before the file: read it again before calling it missing.
    const made = await readKeyFileIfExists(keyPath);
    if (!made) throw noKey();
    return made;
  };
  const read = async (key?: Buffer): Promise<Entries<E>> => {
    try {
      return await readOrThrow(key);
    } catch (err) {
      if (!(err instanceof EntriesFileError) || !options.onUnreadable) throw err;
      options.onUnreadable(err);
      return Object.create(null);
    }
  };
  const readOrThrow = async (key?: Buffer): Promise<Entries<E>> => {
    let sealed: Buffer | undefined;
    try {
      sealed = await readFileIfExists(path);
    } catch (err) {
      throw new EntriesFileError('unreadable', `cannot read ${what} ${path}: ${oneLine(err)}`, err);
    }
    if (!sealed) return Object.create(null);
    let fileKey = key;
    try {
      fileKey ??= await readKeyFileIfExists(keyPath);
    } catch (err) {
      throw new EntriesFileError('unreadable', `cannot open ${what} ${path}: ${oneLine(err)}`, err);
    }
    if (!fileKey) throw noKey();
    try {
      return parseEntries((await decrypt(sealed, fileKey)).toString('utf8'), options.checkEntry);
    } catch (err) {
      throw new EntriesFileError('unreadable', `cannot open ${what} ${path}: ${oneLine(err)}`, err);
    }
  };
  return {
    read: () => read(),
    async update(change) {
      const [{ readOrCreateKeyFile }, { withLock }, { writeFileAtomic }, { encryptBuffer }] = await Promise.all([
        import('./key.js'),
        import('../io/lock.js'),
        import('../io/atomic.js'),
        import('./format.js'),
      ]);
      const key = (await keyForWrite()) ?? (await readOrCreateKeyFile(keyPath));
      await withLock(`${path}.lock`, what, async (held) => {
        const entries = await read(key);
        change(entries);
        const plaintext = Buffer.from(JSON.stringify({ version: 1, entries }));
        await writeFileAtomic(path, encryptBuffer(plaintext, [key]), { mode: 0o600, beforeRename: held });
      });
    },
  };
}

/**
 * The plaintext of an entries file: an intact one is opened in one piece (quick-open.ts), as every
 * `get` reads one of these files; anything else goes to format.ts, which says what is wrong.
 */
async function decrypt(sealed: Buffer, key: Buffer): Promise<Buffer> {
  const opened = await (await import('./quick-open.js')).quickOpen(sealed, key);
  return opened ?? (await import('./format.js')).decryptBuffer(sealed, key);
}

function parseEntries<E>(text: string, checkEntry: (value: unknown) => E): Entries<E> {
  let file: { version?: unknown; entries?: unknown };
  try {
    file = JSON.parse(text) as typeof file;
  } catch (err) {
    throw new Error(`not valid JSON (${oneLine(err)})`);
  }
  if (file?.version !== 1 || typeof file.entries !== 'object' || file.entries === null || Array.isArray(file.entries)) {
    throw new Error('unknown layout (expected version 1 entries)');
  }
  // Keys are whatever a client sent as ServerURL (`__proto__` included): a map without a prototype
  // stores and finds every one of them.
  const entries: Entries<E> = Object.create(null);
  for (const [name, value] of Object.entries(file.entries)) {
    try {
      entries[name] = checkEntry(value);
    } catch (err) {
      throw new Error(`entry ${JSON.stringify(name)} is malformed: ${oneLine(err)}`);
    }
  }
  return entries;
}

/** A string field of an entry, or an error naming it. */
export function stringField(value: unknown, field: string): string {
  const text = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[field] : undefined;
  if (typeof text !== 'string') throw new Error(`"${field}" is not a string`);
  return text;
}
