/**
 * @module
 * SHA-256 and HMAC-SHA-256 of small inputs: Bun's native hasher where there is one (on the spot;
 * under Bun node:crypto takes longer to load than a warm-cache `get` takes), else node:crypto
 * (synchronous, and the `get` that needs these loads it anyway to open the store). The one-piece
 * opener (quick-open.ts) and the cache key (core/resolve/cache.ts) use them.
 */

interface BunHasher {
  update(data: string | Uint8Array): BunHasher;
  digest(): Uint8Array;
  digest(encoding: 'hex'): string;
}
type BunHasherClass = new (algorithm: 'sha256', hmacKey?: Uint8Array) => BunHasher;
const BunCryptoHasher = (globalThis as { Bun?: { CryptoHasher?: BunHasherClass } }).Bun?.CryptoHasher;

/** Imported once: in the Node helper's CommonJS bundle every `import()` copies its whole namespace again. */
let loaded: Promise<typeof import('node:crypto')> | undefined;
const nodeCrypto = () => (loaded ??= import('node:crypto'));

export async function sha256Hex(text: string): Promise<string> {
  if (BunCryptoHasher) return new BunCryptoHasher('sha256').update(text).digest('hex');
  const { createHash } = await nodeCrypto();
  return createHash('sha256').update(text).digest('hex');
}

/** HMAC-SHA-256 of `data` under `key`. */
export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  if (BunCryptoHasher) return new BunCryptoHasher('sha256', key).update(data).digest();
  const { createHmac } = await nodeCrypto();
  return createHmac('sha256', key).update(data).digest();
}
