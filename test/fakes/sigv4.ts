/**
 * @module
 * Server-side AWS Signature Version 4 verification for the fake AWS: rebuilds the canonical request
 * from what arrived on the wire and recomputes the signature with the secret of the access key the
 * request claims, as AWS does. Written from the SigV4 specification, independently of the SDK's
 * signer, so a signing mistake in the client is caught rather than reproduced.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export interface SignedRequest {
  method: string;
  /** Path and query as received, e.g. `/` or `/?Action=…`. */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SigV4Scope {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

/** Why a request's signature was refused; `code` is the error AWS names in that case. */
export class SigV4Error extends Error {
  constructor(
    readonly code: 'MissingAuthenticationToken' | 'IncompleteSignature' | 'InvalidSignature' | 'SignatureExpired',
    message: string,
  ) {
    super(message);
  }
}

const AUTH_PATTERN =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

/** The claimed key and scope of a signed request, before the signature is checked. */
export function parseAuthorization(request: SignedRequest): SigV4Scope | undefined {
  const header = request.headers.authorization;
  if (header === undefined) return undefined;
  const match = AUTH_PATTERN.exec(header);
  if (!match) throw new SigV4Error('IncompleteSignature', `Authorization header requires Credential, SignedHeaders and Signature`);
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  const amzDate = String(request.headers['x-amz-date'] ?? '');
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(';'), signature, amzDate };
}

const sha256 = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters percent-encoded. */
function uriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(search: URLSearchParams): string {
  return [...search]
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function canonicalRequest(request: SignedRequest, signedHeaders: string[]): string {
  const url = new URL(request.url, 'http://fake');
  // Non-S3 services encode each path segment twice: once by the client, once for the signature.
  const path = url.pathname
    .split('/')
    .map((segment) => uriEncode(decodeURIComponent(segment)))
    .join('/');
  const headers = signedHeaders.map((name) => {
    const value = request.headers[name];
    const text = Array.isArray(value) ? value.join(',') : (value ?? '');
    return `${name}:${text.trim().replace(/\s+/g, ' ')}\n`;
  });
  // The hash of the body received, never the client's x-amz-content-sha256: ECR and STS take no
  // unsigned payloads, and a body changed in transit must fail.
  const payloadHash = sha256(request.body);
  return [request.method, path, canonicalQuery(url.searchParams), headers.join(''), signedHeaders.join(';'), payloadHash].join('\n');
}

/** Throws SigV4Error unless `scope.signature` is the request's signature under `secretAccessKey`. */
export function verifySignature(request: SignedRequest, scope: SigV4Scope, secretAccessKey: string, now: number): void {
  if (!scope.signedHeaders.includes('host')) {
    throw new SigV4Error('InvalidSignature', `'Host' must be a 'SignedHeader' in the AWS Authorization.`);
  }
  const stamp = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(scope.amzDate);
  if (!stamp || !scope.signedHeaders.includes('x-amz-date')) {
    throw new SigV4Error('IncompleteSignature', `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.`);
  }
  const signedAt = Date.UTC(+stamp[1]!, +stamp[2]! - 1, +stamp[3]!, +stamp[4]!, +stamp[5]!, +stamp[6]!);
  if (Math.abs(now - signedAt) > 15 * 60_000) {
    throw new SigV4Error('SignatureExpired', `Signature expired: ${scope.amzDate} is now earlier or later than the allowed 15 minutes.`);
  }
  if (scope.amzDate.slice(0, 8) !== scope.date) {
    throw new SigV4Error('InvalidSignature', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP`);
  }
  const credentialScope = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', scope.amzDate, credentialScope, sha256(canonicalRequest(request, scope.signedHeaders))].join(
    '\n',
  );
  let key = hmac(`AWS4${secretAccessKey}`, scope.date);
  for (const part of [scope.region, scope.service, 'aws4_request']) key = hmac(key, part);
  const expected = hmac(key, stringToSign);
  if (!timingSafeEqual(expected, Buffer.from(scope.signature, 'hex'))) {
    throw new SigV4Error(
      'InvalidSignature',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );
  }
}
