/**
 * @module
 * The daemon's `/metrics` page in the Prometheus text format: refreshes, failures, cache hits and
 * misses and time to expiry per registry (from the token cache's status), and request counts and
 * latency per endpoint (observed here). A handful of series, so no client library.
 */
import type { RegistryStatus } from '../core/resolve/refresh.js';

/** Latency buckets in seconds: a cached answer is well under a millisecond, a provider call seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  counts: number[];
  sum: number;
  total: number;
}

export class RequestMetrics {
  readonly #latency = new Map<string, Series>();
  readonly #requests = new Map<string, number>();

  observe(route: string, status: number, seconds: number): void {
    const key = `${route}\u0000${status}`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    let series = this.#latency.get(route);
    if (!series) {
      series = { counts: BUCKETS.map(() => 0), sum: 0, total: 0 };
      this.#latency.set(route, series);
    }
    for (const [i, bound] of BUCKETS.entries()) if (seconds <= bound) series.counts[i]!++;
    series.sum += seconds;
    series.total++;
  }

  render(): string[] {
    const lines = [
      '# HELP berth_daemon_requests_total HTTP requests answered, by endpoint and status.',
      '# TYPE berth_daemon_requests_total counter',
    ];
    for (const [key, count] of this.#requests) {
      const [route, status] = key.split('\u0000');
      lines.push(`berth_daemon_requests_total{route="${label(route!)}",status="${status}"} ${count}`);
    }
    lines.push(
      '# HELP berth_daemon_request_duration_seconds Time to answer a request, by endpoint.',
      '# TYPE berth_daemon_request_duration_seconds histogram',
    );
    for (const [route, series] of this.#latency) {
      const name = `berth_daemon_request_duration_seconds`;
      for (const [i, bound] of BUCKETS.entries()) {
        lines.push(`${name}_bucket{route="${label(route)}",le="${bound}"} ${series.counts[i]}`);
      }
      lines.push(`${name}_bucket{route="${label(route)}",le="+Inf"} ${series.total}`);
      lines.push(`${name}_sum{route="${label(route)}"} ${series.sum}`, `${name}_count{route="${label(route)}"} ${series.total}`);
    }
    return lines;
  }
}

type Field = 'refreshes' | 'failures' | 'hits' | 'misses';

const COUNTERS: [name: string, field: Field, help: string][] = [
  ['berth_daemon_refreshes_total', 'refreshes', 'Successful provider calls per registry.'],
  ['berth_daemon_refresh_failures_total', 'failures', 'Failed provider calls per registry.'],
  ['berth_daemon_cache_hits_total', 'hits', 'Credential requests answered from memory without waiting.'],
  ['berth_daemon_cache_misses_total', 'misses', 'Credential requests that waited on a provider call.'],
];

export function renderMetrics(registries: readonly RegistryStatus[], requests: RequestMetrics, now: number): string {
  const lines: string[] = [];
  for (const [name, field, help] of COUNTERS) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
    for (const status of registries) lines.push(`${name}{registry="${label(status.registryHost)}"} ${status[field]}`);
  }
  lines.push(
    '# HELP berth_daemon_token_expiry_seconds Seconds until the cached token expires (negative: expired).',
    '# TYPE berth_daemon_token_expiry_seconds gauge',
  );
  for (const status of registries) {
    if (status.expiresAt !== undefined) {
      lines.push(`berth_daemon_token_expiry_seconds{registry="${label(status.registryHost)}"} ${(status.expiresAt - now) / 1000}`);
    }
  }
  lines.push(
    '# HELP berth_daemon_token_stale 1 while the last refresh failed and the previous token is being served.',
    '# TYPE berth_daemon_token_stale gauge',
  );
  for (const status of registries) {
    lines.push(`berth_daemon_token_stale{registry="${label(status.registryHost)}"} ${status.consecutiveFailures > 0 ? 1 : 0}`);
  }
  return `${[...lines, ...requests.render()].join('\n')}\n`;
}

/** A label value, escaped as the text format requires. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
