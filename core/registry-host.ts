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
 * The host (and port) of a server URL: scheme, path, credentials and trailing slashes removed,
 * lower-cased. Returns '' for input that names no host.
 */
export function registryHost(serverURL: string): string {
  let rest = serverURL.trim();
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length);
  const slash = rest.indexOf('/');
  if (slash >= 0) rest = rest.slice(0, slash);
  const at = rest.lastIndexOf('@');
  if (at >= 0) rest = rest.slice(at + 1);
  return rest.toLowerCase();
}

/** The store key for a server URL: Docker Hub's canonical key for any Hub alias, else `host[:port]`. */
export function registryKey(serverURL: string): string {
  const host = registryHost(serverURL);
  if (host === '') return '';
  return HUB_ALIASES.has(host) ? DOCKER_HUB_KEY : host;
}
