/**
 * @module
 * A fetch that honours HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the given environment (read by
 * ./proxy.ts, curl's precedence), on both runtimes berth ships on. Node's own fetch ignores those
 * variables, so on Node it is undici's fetch with an EnvHttpProxyAgent (loaded on first use). The
 * standalone executable runs on Bun, whose `undici` is a stand-in without that agent and whose fetch
 * takes the proxy as a URL per request instead.
 */
import type { Env } from '../paths.js';
import { bypassesProxy, proxySettings } from './proxy.js';
import { loadPackage } from './packages.js';

export interface ProxiedFetch {
  fetch(url: string, init?: RequestInit): Promise<Response>;
  /** Closes the connections it holds; call once done. */
  close(): void;
}

export async function proxiedFetch(env: Env): Promise<ProxiedFetch> {
  // Empty strings, not undefined: undici would otherwise read process.env itself.
  const { httpProxy = '', httpsProxy = '', noProxy = '' } = proxySettings(env);
  if (process.versions.bun) {
    const proxyFor = (url: string): string | undefined => {
      const { protocol, hostname, port } = new URL(url);
      const proxy = protocol === 'https:' ? httpsProxy : httpProxy;
      const portNumber = Number(port) || (protocol === 'https:' ? 443 : 80);
      return proxy && !bypassesProxy(hostname, portNumber, noProxy) ? proxy : undefined;
    };
    return {
      fetch: (url, init) => {
        const proxy = proxyFor(url);
        return fetch(url, { ...init, ...(proxy ? { proxy } : {}) } as RequestInit);
      },
      close: () => undefined,
    };
  }
  const { fetch: undiciFetch, EnvHttpProxyAgent } = await loadPackage('undici');
  const dispatcher = new EnvHttpProxyAgent({ httpProxy, httpsProxy, noProxy });
  return {
    fetch: (url, init) => undiciFetch(url, { ...init, dispatcher } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>,
    close: () => void dispatcher.close(),
  };
}
