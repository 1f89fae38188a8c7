/**
 * @module
 * The advice every OS-backed store gives when it cannot work here: how to switch to the `file` store,
 * which works anywhere. One wording, so users and tests see the same line from every backend.
 */
import { berthConfigFile, type Env } from '../paths.js';

/** `use the file store: BERTH_STORE=file, or "store": "file" in <config file>`. */
export function useFileStoreAdvice(env: Env): string {
  return `use the file store: BERTH_STORE=file, or "store": "file" in ${berthConfigFile(env)}`;
}
