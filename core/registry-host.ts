/**
 * @module
 * One spelling per registry. docker keys Docker Hub as `https://index.docker.io/v1/` and other
 * registries as `host[:port]`; containers/image sends bare `host[:port]` and `docker.io`. Both must
 * find the same entry, so every store keys its entries by `registryKey()`.
 */

/** The key docker itself uses for Docker Hub; berth stores Hub credentials under it. */
export const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';

const HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/**
 * A host name (any letters: an internationalised one too), an IPv4 address or an IPv6 address in
 * brackets, then an optional port: no space and none of the characters that end or split a host.
 */
const HOST = /^(?:[^\s\\/?#@[\]:]+|\[[0-9a-f:.]+\])(?::[0-9]{1,5})?$/;

/**
 * A server URL's host (lower-cased, with its port) and the path after it (no leading or trailing
 * slash; no query or fragment). The host is '' for input that names none, and for input whose host
 * URL parsers would read differently: the authority ends at the first `/`, `?` or `#`, as in Go's
 * net/url, Python's urlsplit and browsers, so `evil.example?@ghcr.io` is evil.example, never
 * ghcr.io; a backslash in it (a path separator to browsers, part of the user name to Python) or any
 * character a host cannot hold names no registry.
 */
export function splitServerURL(serverURL: string): { host: string; path: string } {
  let rest = serverURL.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const end = rest.search(/[/?#]/);
  const authority = end < 0 ? rest : rest.slice(0, end);
  const path =
    end < 0 || rest[end] !== '/'
      ? ''
      : rest
          .slice(end + 1)
          .replace(/[?#].*$/s, '')
          .replace(/^\/+|\/+$/g, '');
  const host = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase();
  return { host: !authority.includes('\\') && HOST.test(host) ? host : '', path };
}

/** The host (and port) of a server URL, lower-cased: '' for input that names no host (see splitServerURL). */
export function registryHost(serverURL: string): string {
  return splitServerURL(serverURL).host;
}

/**
 * Where docker's web-based Hub login (`docker login` with no user name, docker 27.4 on) keeps its
 * OAuth access and refresh tokens, beside the Hub login itself: entries of their own, never the
 * Hub's (a login that failed after storing them would otherwise leave a token as the Hub login).
 */
const DOCKER_TOKEN_KEYS = new Set([`${DOCKER_HUB_KEY}access-token`, `${DOCKER_HUB_KEY}refresh-token`]);

/** Whether a store key holds one of docker's Hub OAuth tokens: an entry that names no registry of its own. */
export function isDockerTokenKey(key: string): boolean {
  return DOCKER_TOKEN_KEYS.has(key);
}

/**
 * The store key for a server URL: Docker Hub's canonical key for any Hub alias, else `host[:port]`;
 * docker's Hub token keys as they are.
 */
export function registryKey(serverURL: string): string {
  const trimmed = serverURL.trim();
  if (DOCKER_TOKEN_KEYS.has(trimmed)) return trimmed;
  const host = registryHost(trimmed);
  if (host === '') return '';
  return HUB_ALIASES.has(host) ? DOCKER_HUB_KEY : host;
}
