/**
 * @module
 * The long-running sync's `/healthz` and `/metrics` (Prometheus text), on plain node:http: a probe
 * for the Deployment and counters for what the controller wrote and what failed. No secret is served.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SyncController } from './controller.js';

export function renderSyncMetrics(controller: SyncController, now: number): string {
  const { status } = controller;
  const lines = [
    '# HELP berth_kube_sync_passes_total Full passes over the matching namespaces.',
    '# TYPE berth_kube_sync_passes_total counter',
    `berth_kube_sync_passes_total ${status.passes}`,
    '# HELP berth_kube_sync_writes_total Writes to the API server, by kind.',
    '# TYPE berth_kube_sync_writes_total counter',
    ...Object.entries(status.writes).map(([kind, count]) => `berth_kube_sync_writes_total{kind="${kind}"} ${count}`),
    '# HELP berth_kube_sync_namespaces Namespaces holding the current Secret, and failing ones.',
    '# TYPE berth_kube_sync_namespaces gauge',
    `berth_kube_sync_namespaces{state="synced"} ${status.syncedNamespaces}`,
    `berth_kube_sync_namespaces{state="failing"} ${status.failing.size}`,
    '# HELP berth_kube_sync_watch_restarts_total Namespace watches resumed after the server ended them.',
    '# TYPE berth_kube_sync_watch_restarts_total counter',
    `berth_kube_sync_watch_restarts_total ${status.watchRestarts}`,
    `berth_kube_sync_relists_total ${status.relists}`,
  ];
  if (status.credentialsExpireAt !== undefined) {
    lines.push('# HELP berth_kube_sync_credentials_expiry_seconds Seconds until the earliest credential expires.');
    lines.push('# TYPE berth_kube_sync_credentials_expiry_seconds gauge');
    lines.push(`berth_kube_sync_credentials_expiry_seconds ${Math.round((status.credentialsExpireAt - now) / 1000)}`);
  }
  lines.push(`berth_kube_sync_credentials_resolve_failing ${status.lastResolveError ? 1 : 0}`);
  return `${lines.join('\n')}\n`;
}

/** Listens on `host:port` (port 0: any); resolves with the server and the port it got. */
export async function serveHealth(controller: SyncController, host: string, port: number): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') {
      res.writeHead(405, { allow: 'GET' }).end();
    } else if (path === '/healthz') {
      const healthy = controller.healthy();
      res.writeHead(healthy ? 200 : 503, { 'content-type': 'text/plain' }).end(healthy ? 'ok\n' : 'not ready\n');
    } else if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(renderSyncMetrics(controller, Date.now()));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
