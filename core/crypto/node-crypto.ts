/**
 * @module
 * node:crypto, imported once when first asked for: the hot paths load it only when they open a
 * file, and in the Node helper's CommonJS bundle every `import()` of it would copy its whole
 * namespace again.
 */
let loaded: Promise<typeof import('node:crypto')> | undefined;

export function nodeCrypto(): Promise<typeof import('node:crypto')> {
  loaded ??= import('node:crypto');
  return loaded;
}
