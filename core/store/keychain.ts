/** @module The `keychain` store (not yet available). */
import { StoreError } from '../errors.js';
import type { Store, StoreContext } from './store.js';

export async function openKeychainStore(_ctx: StoreContext): Promise<Store> {
  throw new StoreError('the keychain store is not available yet', { hint: 'use BERTH_STORE=file' });
}
