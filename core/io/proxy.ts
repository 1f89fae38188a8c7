/**
 * @module
 * The proxy variables, read in one place for every provider: `proxySettings` reads them as curl
 * does (the lower-case name wins over the upper-case one), and `proxyAgentsFromEnv` turns them into
 * agents for SDKs that take a Node `http.Agent` (the AWS SDK v3 ignores the variables by itself);
 * the ACR exchange hands the same settings to undici. The agents choose per connection, from the
 * host actually dialled: `*` disables the proxy, an entry matches the host and its subdomains, an
 * optional `:port` must match, and IP ranges may be given in CIDR form.
 */
import { BlockList, isIP, connect as netConnect, type Socket } from 'node:net';
import type { ClientRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { Env } from '../paths.js';

export interface ProxySettings {
  httpProxy?: string;
  httpsProxy?: string;
  noProxy?: string;
}

/**
 * `https_proxy`, `http_proxy` and `no_proxy` with curl's precedence: the lower-case name first, then
 * the upper-case one. An empty value counts as unset. A proxy without a scheme is `http://`.
 */
export function proxySettings(env: Env): ProxySettings {
  const read = (name: string) => env[name] || env[name.toUpperCase()] || undefined;
  const withScheme = (url: string | undefined) => (url === undefined || url.includes('://') ? url : `http://${url}`);
  const httpsProxy = withScheme(read('https_proxy'));
  const httpProxy = withScheme(read('http_proxy'));
  const noProxy = read('no_proxy');
  return { ...(httpsProxy && { httpsProxy }), ...(httpProxy && { httpProxy }), ...(noProxy && { noProxy }) };
}

/** An entry's host (or CIDR range) and optional port: `h`, `h:p`, `[v6]:p`, bare IPv6 (colons, no port). */
function splitEntry(entry: string): { pattern: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { pattern: bracketed[1]!, ...(bracketed[2] && { port: Number(bracketed[2]) }) };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  return withPort ? { pattern: withPort[1]!, port: Number(withPort[2]) } : { pattern: entry };
}

function inRange(ip: string, cidr: string): boolean {
  const [network = '', prefix] = cidr.split('/');
  const family = (address: string) => (isIP(address) === 6 ? 'ipv6' : 'ipv4');
  const list = new BlockList();
  try {
    list.addSubnet(network, Number(prefix), family(network));
  } catch {
    return false;
  }
  return list.check(ip, family(ip));
}

/** True when NO_PROXY says `host:port` is reached directly. */
export function bypassesProxy(host: string, port: number, noProxy: string | undefined): boolean {
  const hostname = host
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
  return (noProxy ?? '').split(',').some((raw) => {
    const entry = raw.trim().toLowerCase();
    if (entry === '*') return true;
    const { pattern, port: entryPort } = splitEntry(entry);
    if (pattern === '' || (entryPort !== undefined && entryPort !== port)) return false;
    if (pattern.includes('/')) return isIP(hostname) !== 0 && inRange(hostname, pattern);
    const domain = pattern.replace(/^\*?\./, '');
    return hostname === domain || hostname.endsWith(`.${domain}`);
  });
}

type AgentConnectOpts = Parameters<HttpsProxyAgent<string>['connect']>[1];

/** A CONNECT-tunnelling agent that dials NO_PROXY hosts directly. */
class EnvProxyAgent extends HttpsProxyAgent<string> {
  constructor(
    proxy: string,
    private readonly noProxy: string | undefined,
  ) {
    super(proxy, { keepAlive: true });
  }

  override async connect(req: ClientRequest, opts: AgentConnectOpts): Promise<Socket> {
    if (!bypassesProxy(opts.host ?? '', opts.port, this.noProxy)) return super.connect(req, opts);
    if (!opts.secureEndpoint) return netConnect({ host: opts.host, port: opts.port });
    return tlsConnect({ ...opts, servername: isIP(opts.host ?? '') ? undefined : opts.host });
  }
}

export interface ProxyAgents {
  httpAgent?: EnvProxyAgent;
  httpsAgent?: EnvProxyAgent;
}

/** Agents for http: and https: requests per the environment; empty when no proxy is set. */
export function proxyAgentsFromEnv(env: Env): ProxyAgents {
  const { httpsProxy, httpProxy, noProxy } = proxySettings(env);
  return {
    ...(httpsProxy && { httpsAgent: new EnvProxyAgent(httpsProxy, noProxy) }),
    ...(httpProxy && { httpAgent: new EnvProxyAgent(httpProxy, noProxy) }),
  };
}
