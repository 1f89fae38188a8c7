/**
 * @module
 * SHA-256 of a short text, hex: Bun's native hasher where there is one (on the spot), else
 * WebCrypto (under Bun WebCrypto hands the call to a thread; node:crypto takes longer to load there
 * than a warm-cache `get` takes).
 */
import type { webcrypto } from 'node:crypto';

type BunHasherClass = new (algorithm: 'sha256') => { update(data: string): { digest(encoding: 'hex'): string } };
const BunCryptoHasher = (globalThis as { Bun?: { CryptoHasher?: BunHasherClass } }).Bun?.CryptoHasher;

export async function sha256Hex(text: string): Promise<string> {
  if (BunCryptoHasher) return new BunCryptoHasher('sha256').update(text).digest('hex');
  const digest = await (globalThis.crypto as webcrypto.Crypto).subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('hex');
}
