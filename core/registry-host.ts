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
 * A server URL's host (lower-cased, with its port) and the path after it (no leading or trailing
 * slash; no query or fragment). The host is '' for input that names none, and for input whose host
 * URL parsers would read differently: the authority ends at the first `/`, `?` or `#`, as in Go's
 * net/url, Python's urlsplit and browsers, so `evil.example?@ghcr.io` is evil.example, never
 * ghcr.io; a backslash in it (a path separator to browsers, part of the user name to Python), a
 * space, or a port that is not a number names no registry. Every `get` reads this, so it scans
 * rather than matching regular expressions (each costs the executable a compile on first use).
 */
export function splitServerURL(serverURL: string): { host: string; path: string } {
  const text = serverURL.trim();
  const start = schemeLength(text);
  let end = start;
  while (end < text.length && !'/?#'.includes(text[end]!)) end++;
  const authority = text.slice(start, end);
  const host = authority.slice(authority.lastIndexOf('@') + 1).toLowerCase();
  return { host: !authority.includes('\\') && isHost(host) ? host : '', path: text[end] === '/' ? pathOf(text.slice(end + 1)) : '' };
}

/** The length of a leading `scheme://` (RFC 3986: a letter, then letters, digits, `+`, `-`, `.`), else 0. */
function schemeLength(text: string): number {
  const separator = text.indexOf('://');
  if (separator < 1 || !isLetter(text[0]!)) return 0;
  for (let i = 1; i < separator; i++) {
    const c = text[i]!;
    if (!isLetter(c) && !isDigit(c) && !'+-.'.includes(c)) return 0;
  }
  return separator + 3;
}

/**
 * A host name (any letters: an internationalised one too) or an IPv4 address, or an IPv6 address
 * in brackets, then an optional port: no space and none of the characters that end or split a host.
 */
function isHost(host: string): boolean {
  const close = host[0] === '[' ? host.indexOf(']') : -1;
  const colon = host.indexOf(':', close + 1);
  const name = colon < 0 ? host : host.slice(0, colon);
  if (colon >= 0) {
    const port = host.slice(colon + 1);
    if (port.length < 1 || port.length > 5 || ![...port].every(isDigit)) return false;
  }
  if (close >= 0)
    return close === name.length - 1 && name.length > 2 && [...name.slice(1, -1)].every((c) => '0123456789abcdef:.'.includes(c));
  return name.length > 0 && ![...name].some((c) => c <= ' ' || '\\/?#@[]:'.includes(c));
}

/** The path of a server URL after its host's `/`: up to a query or fragment, no slashes at either end. */
function pathOf(rest: string): string {
  let end = 0;
  while (end < rest.length && rest[end] !== '?' && rest[end] !== '#') end++;
  let from = 0;
  let to = end;
  while (from < to && rest[from] === '/') from++;
  while (to > from && rest[to - 1] === '/') to--;
  return rest.slice(from, to);
}

const isLetter = (c: string) => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigit = (c: string) => c >= '0' && c <= '9';

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
