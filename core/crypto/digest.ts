/**
 * @module
 * SHA-256 and HMAC-SHA-256 of small inputs: Bun's native hasher where there is one (on the spot),
 * else WebCrypto (under Bun WebCrypto hands every call to a thread; node:crypto takes longer to
 * load there than a warm-cache `get` takes). The one-piece opener (quick-open.ts) and the cache
 * key (core/resolve/cache.ts) use them.
 */
import type { webcrypto } from 'node:crypto';

interface BunHasher {
  update(data: string | Uint8Array): BunHasher;
  digest(): Uint8Array;
  digest(encoding: 'hex'): string;
}
type BunHasherClass = new (algorithm: 'sha256', hmacKey?: Uint8Array) => BunHasher;
const BunCryptoHasher = (globalThis as { Bun?: { CryptoHasher?: BunHasherClass } }).Bun?.CryptoHasher;

function subtle(): webcrypto.SubtleCrypto {
  return (globalThis.crypto as webcrypto.Crypto).subtle;
}

export async function sha256Hex(text: string): Promise<string> {
  if (BunCryptoHasher) return new BunCryptoHasher('sha256').update(text).digest('hex');
  return Buffer.from(await subtle().digest('SHA-256', new TextEncoder().encode(text))).toString('hex');
}

/** HMAC-SHA-256 of `data` under `key`. */
export async function hmacSha256(key: Uint8Array, data: Uint8Array): Promise<Uint8Array> {
  if (BunCryptoHasher) return new BunCryptoHasher('sha256', key).update(data).digest();
  const imported = await subtle().importKey('raw', key, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await subtle().sign('HMAC', imported, data));
}
