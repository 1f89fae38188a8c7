/**
 * @module
 * Checking a user name and secret against a registry the way `docker login` does: `GET /v2/`, and
 * when that asks for credentials, Basic auth or the Bearer token flow its `WWW-Authenticate` header
 * names (the token endpoint asked with Basic auth, or with the refresh token for an identity token).
 * A refusal is an error naming the registry and the user; a registry that cannot be reached is not
 * a verdict on the credentials and is returned as such, for the caller to say "not verified".
 * HTTPS_PROXY and NO_PROXY are honoured (core/io/fetch.ts; Node's own fetch ignores them).
 */
import { BerthError } from '../errors.js';
import { proxiedFetch } from '../io/fetch.js';
import type { Env } from '../paths.js';
import { DOCKER_HUB_KEY, registryKey } from '../registry-host.js';

/** `ok`: the registry accepted the credentials; `open`: it asks none (any credentials work). */
export type Verdict = { result: 'ok' | 'open'; url: string } | { result: 'unreachable'; url: string; reason: string };

export class CredentialsRefusedError extends BerthError {
  override name = 'CredentialsRefusedError';
}

export interface VerifyOptions {
  env: Env;
  timeoutMs?: number;
}

const TIMEOUT_MS = 15_000;
const IDENTITY_TOKEN_USER = '<token>';

interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** `Bearer realm="https://auth",service="registry",scope="…"` → scheme and parameters. */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const match = /^\s*([A-Za-z]+)\s*(.*)$/s.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const param of match[2]!.matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[param[1]!.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : param[3]!;
  }
  return { scheme: match[1]!.toLowerCase(), params };
}

/** Where a registry's API lives: Docker Hub's is registry-1.docker.io; loopback may be plain HTTP. */
export function baseURLs(serverURL: string): string[] {
  const key = registryKey(serverURL);
  if (key === DOCKER_HUB_KEY) return ['https://registry-1.docker.io'];
  const hostname = key.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const loopback = hostname === 'localhost' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname);
  // As docker does for insecure registries (127.0.0.0/8 is one by default): HTTPS first, then HTTP.
  return loopback ? [`https://${key}`, `http://${key}`] : [`https://${key}`];
}

type Fetch = (url: string, init?: Record<string, unknown>) => Promise<{ status: number; headers: Headers; text(): Promise<string> }>;

/** Verifies `username`/`secret` for `serverURL`; throws CredentialsRefusedError when the registry says no. */
export async function verifyLogin(serverURL: string, username: string, secret: string, options: VerifyOptions): Promise<Verdict> {
  const client = await proxiedFetch(options.env);
  const signal = AbortSignal.timeout(options.timeoutMs ?? TIMEOUT_MS);
  const get: Fetch = (url, init = {}) => client.fetch(url, { signal, redirect: 'follow', ...init } as RequestInit);
  const key = registryKey(serverURL);
  let last: Verdict | undefined;
  try {
    for (const base of baseURLs(serverURL)) {
      const url = `${base}/v2/`;
      let first;
      try {
        first = await get(url);
      } catch (err) {
        last = { result: 'unreachable', url, reason: connectionReason(err) };
        continue;
      }
      try {
        return await answer(get, key, url, first, username, secret);
      } catch (err) {
        if (err instanceof BerthError) throw err;
        return { result: 'unreachable', url, reason: connectionReason(err) };
      }
    }
    return last!;
  } finally {
    client.close();
  }
}

async function answer(
  get: Fetch,
  key: string,
  url: string,
  first: Awaited<ReturnType<Fetch>>,
  username: string,
  secret: string,
): Promise<Verdict> {
  await first.text();
  if (first.status === 200) return { result: 'open', url };
  if (first.status !== 401) return { result: 'unreachable', url, reason: `${url} answered HTTP ${first.status}` };
  const challenge = parseChallenge(first.headers.get('www-authenticate'));
  const basic = `Basic ${Buffer.from(`${username}:${secret}`).toString('base64')}`;
  if (challenge?.scheme === 'bearer' && challenge.params.realm) {
    const token = await bearerToken(get, key, challenge.params, username, secret, basic);
    const checked = await get(url, { headers: { authorization: `Bearer ${token}` } });
    await checked.text();
    if (checked.status === 200) return { result: 'ok', url };
    throw refused(key, username, `${url} refused the token (HTTP ${checked.status})`);
  }
  const checked = await get(url, { headers: { authorization: basic } });
  await checked.text();
  if (checked.status === 200) return { result: 'ok', url };
  throw refused(key, username, `HTTP ${checked.status}`);
}

/** The Bearer flow: the token endpoint with Basic auth (or the refresh token of an identity token). */
async function bearerToken(
  get: Fetch,
  key: string,
  params: Record<string, string>,
  username: string,
  secret: string,
  basic: string,
): Promise<string> {
  const realm = new URL(params.realm!);
  let response;
  if (username === IDENTITY_TOKEN_USER) {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: secret, client_id: 'berth' });
    if (params.service) form.set('service', params.service);
    response = await get(realm.href, { method: 'POST', body: form });
  } else {
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('account', username);
    realm.searchParams.set('client_id', 'berth');
    response = await get(realm.href, { headers: { authorization: basic } });
  }
  const body = await response.text();
  if (response.status === 401 || response.status === 403) {
    throw refused(key, username, `its token service ${realm.origin} answered HTTP ${response.status}`);
  }
  const parsed = safeJson(body);
  const token = parsed?.token ?? parsed?.access_token;
  if (response.status !== 200 || typeof token !== 'string' || token === '') {
    throw new BerthError(`${key}: the token service ${realm.origin} answered HTTP ${response.status} without a token`);
  }
  return token;
}

function refused(key: string, username: string, detail: string): CredentialsRefusedError {
  return new CredentialsRefusedError(`${key} refused the credentials for ${username} (${detail})`, {
    hint: 'check the user name and password or token; --no-verify stores them without asking the registry',
  });
}

function safeJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function connectionReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if ((err as Error)?.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}
