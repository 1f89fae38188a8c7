/** @module The `file` store (placeholder until the encrypted format lands). */
import { StoreError } from '../errors.js';
import type { Store, StoreContext } from './store.js';

export async function openFileStore(_ctx: StoreContext): Promise<Store> {
  throw new StoreError('the file store is not available yet');
}
