/**
 * @module
 * Signing and verifying compact JWTs for the fake cloud services, with node:crypto: RS256 and PS256,
 * the algorithms Google's token endpoint and Entra accept from clients.
 */
import { createSign, createVerify, constants, type KeyLike } from 'node:crypto';

export type JwtAlgorithm = 'RS256' | 'PS256';

export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const b64url = (data: string | Buffer): string => Buffer.from(data).toString('base64url');

function sign(algorithm: JwtAlgorithm, input: string, key: KeyLike): Buffer {
  const signer = createSign('RSA-SHA256').update(input);
  return algorithm === 'PS256' ? signer.sign({ key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as never) : signer.sign(key);
}

export function signJwt(claims: Record<string, unknown>, key: KeyLike, header: Record<string, unknown> = {}): string {
  const fullHeader = { alg: 'RS256', typ: 'JWT', ...header };
  const input = `${b64url(JSON.stringify(fullHeader))}.${b64url(JSON.stringify(claims))}`;
  return `${input}.${b64url(sign(fullHeader.alg as JwtAlgorithm, input, key))}`;
}

/** Header and claims without checking the signature; undefined for anything that is not a JWT. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
    return { header, claims };
  } catch {
    return undefined;
  }
}

/** The decoded token when its RS256/PS256 signature verifies with `publicKey`, else undefined. */
export function verifyJwt(token: string, publicKey: KeyLike): DecodedJwt | undefined {
  const decoded = decodeJwt(token);
  if (!decoded) return undefined;
  const alg = decoded.header.alg;
  if (alg !== 'RS256' && alg !== 'PS256') return undefined;
  const [header, claims, signature] = token.split('.') as [string, string, string];
  const verifier = createVerify('RSA-SHA256').update(`${header}.${claims}`);
  const key = alg === 'PS256' ? ({ key: publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } as never) : publicKey;
  return verifier.verify(key, Buffer.from(signature, 'base64url')) ? decoded : undefined;
}
