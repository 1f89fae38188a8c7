/**
 * @module
 * An in-memory Store for tests of code above the store layer (the helper protocol, the CLI). It
 * keeps entries by `registryKey()`, as every real backend does, and can be told to fail.
 */
import { StoreError } from '../../core/errors.js';
import type { Credential, Store, StoreName } from '../../core/store/store.js';

export interface MemoryStore extends Store {
  readonly entries: Map<string, Credential>;
  /** How many times each method ran. */
  readonly calls: Record<'set' | 'get' | 'erase' | 'list', number>;
}

export function memoryStore(options: { name?: StoreName; failWith?: string; initial?: Record<string, Credential> } = {}): MemoryStore {
  const entries = new Map<string, Credential>(Object.entries(options.initial ?? {}));
  const calls = { set: 0, get: 0, erase: 0, list: 0 };
  const check = () => {
    if (options.failWith !== undefined) throw new StoreError(options.failWith);
  };
  return {
    name: options.name ?? 'file',
    entries,
    calls,
    async set(key, credentials) {
      calls.set++;
      check();
      entries.set(key, { ...credentials });
    },
    async get(key) {
      calls.get++;
      check();
      const found = entries.get(key);
      return found && { ...found };
    },
    async erase(key) {
      calls.erase++;
      check();
      entries.delete(key);
    },
    async list() {
      calls.list++;
      check();
      return Object.fromEntries([...entries].map(([key, credentials]) => [key, credentials.username]));
    },
  };
}
