/**
 * @module
 * `HTTPS_PROXY` / `HTTP_PROXY` / `NO_PROXY` for SDKs that take a Node `http.Agent` (the AWS SDK v3
 * ignores these variables by itself). The choice is made per connection, from the host actually
 * dialled, with the rules users know from Go's `httpproxy`: upper-case names first, `*` disables the
 * proxy, an entry matches the host and its subdomains, an optional `:port` must match, and IP
 * ranges may be given in CIDR form.
 */
import { BlockList, isIP, connect as netConnect, type Socket } from 'node:net';
import type { ClientRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { Env } from '../paths.js';

function variable(env: Env, name: string): string | undefined {
  return env[name] || env[name.toLowerCase()] || undefined;
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
  const noProxy = variable(env, 'NO_PROXY');
  const httpsProxy = variable(env, 'HTTPS_PROXY');
  const httpProxy = variable(env, 'HTTP_PROXY');
  const withScheme = (url: string) => (url.includes('://') ? url : `http://${url}`);
  return {
    ...(httpsProxy && { httpsAgent: new EnvProxyAgent(withScheme(httpsProxy), noProxy) }),
    ...(httpProxy && { httpAgent: new EnvProxyAgent(withScheme(httpProxy), noProxy) }),
  };
}
