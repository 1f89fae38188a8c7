import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../../core/errors.js';
import { fileStorePaths, openFileStore } from '../../../core/store/file.js';

let root: string;
let env: Record<string, string>;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'berth-file-store-'));
  env = { HOME: root, XDG_DATA_HOME: join(root, 'data') };
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const credentials = (n: number) => ({ serverURL: `https://r${n}.example`, username: `user${n}`, secret: `secret-${n}` });

describe('file store', () => {
  it('is empty before the first write and makes no key file on reads', async () => {
    const store = await openFileStore({ env });
    expect(await store.list()).toEqual({});
    expect(await store.get('r1.example')).toBeUndefined();
    await expect(stat(fileStorePaths({ env }).keyPath)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stores, gets, lists and erases; erasing an absent entry is fine', async () => {
    const store = await openFileStore({ env });
    await store.set('r1.example', credentials(1));
    await store.set('r2.example', credentials(2));
    expect(await store.get('r1.example')).toEqual(credentials(1));
    expect(await store.list()).toEqual({ 'r1.example': 'user1', 'r2.example': 'user2' });
    await store.erase('r1.example');
    await store.erase('never.example');
    expect(await store.list()).toEqual({ 'r2.example': 'user2' });
  });

  it('keeps the store and its key 0600 in a 0700 directory, and no secret in plain text', async () => {
    const store = await openFileStore({ env });
    await store.set('r1.example', credentials(1));
    const { dir, storePath, keyPath } = fileStorePaths({ env });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(storePath)).mode & 0o777).toBe(0o600);
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect((await readFile(storePath)).includes('secret-1')).toBe(false);
  });

  it('loses nothing when 50 writers store at once', async () => {
    const stores = await Promise.all(Array.from({ length: 50 }, () => openFileStore({ env })));
    await Promise.all(stores.map((store, n) => store.set(`r${n}.example`, credentials(n))));
    expect(Object.keys(await stores[0]!.list())).toHaveLength(50);
  });

  it('names the file when the store is corrupted, and leaves it alone', async () => {
    const store = await openFileStore({ env });
    await store.set('r1.example', credentials(1));
    const { storePath } = fileStorePaths({ env });
    const sealed = await readFile(storePath);
    sealed.writeUInt8(sealed.readUInt8(sealed.length - 5) ^ 1, sealed.length - 5);
    await writeFile(storePath, sealed);
    const failure = store.get('r1.example');
    await expect(failure).rejects.toBeInstanceOf(StoreError);
    await expect(failure).rejects.toThrow(storePath);
    await expect(store.set('r2.example', credentials(2))).rejects.toBeInstanceOf(StoreError);
    expect(await readFile(storePath)).toEqual(sealed);
  });

  it('says the key file is missing rather than pretending the store is empty', async () => {
    const store = await openFileStore({ env });
    await store.set('r1.example', credentials(1));
    const { keyPath } = fileStorePaths({ env });
    await rm(keyPath);
    await expect(store.list()).rejects.toThrow(/key file .* is missing/);
  });
});

describe('file store keys that collide with Object.prototype', () => {
  it('stores, reads back, lists and erases __proto__ and constructor', async () => {
    const store = await openFileStore({ env });
    const proto = { serverURL: '__proto__', username: 'p', secret: 'ps' };
    const ctor = { serverURL: 'constructor', username: 'c', secret: 'cs' };
    expect(await store.get('constructor')).toBeUndefined();
    await store.set('__proto__', proto);
    await store.set('constructor', ctor);
    const reopened = await openFileStore({ env });
    expect(await reopened.get('__proto__')).toEqual(proto);
    expect(await reopened.get('constructor')).toEqual(ctor);
    expect(JSON.stringify(await reopened.list())).toBe('{"__proto__":"p","constructor":"c"}');
    await reopened.erase('__proto__');
    expect(await reopened.get('__proto__')).toBeUndefined();
    expect(await reopened.get('constructor')).toEqual(ctor);
  });
});
