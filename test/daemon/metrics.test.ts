/** The daemon's /metrics page: Prometheus text format, per-registry counters, latency histograms, escaped labels. */
import { describe, expect, it } from 'vitest';
import type { RegistryStatus } from '../../core/resolve/refresh.js';
import { RequestMetrics, renderMetrics } from '../../daemon/metrics.js';

const NOW = Date.UTC(2026, 0, 1, 12);
const ECR = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

function status(overrides: Partial<RegistryStatus> = {}): RegistryStatus {
  return { registryHost: ECR, refreshing: false, consecutiveFailures: 0, refreshes: 0, failures: 0, hits: 0, misses: 0, ...overrides };
}

/** The sample lines (not comments) of a page, as name{labels} → value. */
function samples(page: string): Map<string, string> {
  const lines = page
    .trimEnd()
    .split('\n')
    .filter((line) => !line.startsWith('#'));
  return new Map(lines.map((line) => [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)]));
}

describe('renderMetrics', () => {
  it('with nothing cached: every family declared once, no samples, a final newline', () => {
    const page = renderMetrics([], new RequestMetrics(), NOW);
    expect(page.endsWith('\n')).toBe(true);
    expect(samples(page).size).toBe(0);
    for (const family of [
      'berth_daemon_refreshes_total counter',
      'berth_daemon_refresh_failures_total counter',
      'berth_daemon_cache_hits_total counter',
      'berth_daemon_cache_misses_total counter',
      'berth_daemon_token_expiry_seconds gauge',
      'berth_daemon_token_stale gauge',
      'berth_daemon_requests_total counter',
      'berth_daemon_request_duration_seconds histogram',
    ]) {
      expect(page.split('\n').filter((line) => line === `# TYPE ${family}`)).toHaveLength(1);
    }
  });

  it('per registry: counters, seconds to expiry (negative once expired) and staleness', () => {
    const page = renderMetrics(
      [
        status({ refreshes: 3, failures: 1, hits: 40, misses: 2, expiresAt: NOW + 90_500, consecutiveFailures: 1 }),
        status({ registryHost: 'ghcr.io', expiresAt: NOW - 2_000 }),
        status({ registryHost: 'never.example' }),
      ],
      new RequestMetrics(),
      NOW,
    );
    const values = samples(page);
    expect(values.get(`berth_daemon_refreshes_total{registry="${ECR}"}`)).toBe('3');
    expect(values.get(`berth_daemon_refresh_failures_total{registry="${ECR}"}`)).toBe('1');
    expect(values.get(`berth_daemon_cache_hits_total{registry="${ECR}"}`)).toBe('40');
    expect(values.get(`berth_daemon_cache_misses_total{registry="${ECR}"}`)).toBe('2');
    expect(values.get(`berth_daemon_token_expiry_seconds{registry="${ECR}"}`)).toBe('90.5');
    expect(values.get('berth_daemon_token_expiry_seconds{registry="ghcr.io"}')).toBe('-2');
    expect(values.has('berth_daemon_token_expiry_seconds{registry="never.example"}')).toBe(false);
    expect(values.get(`berth_daemon_token_stale{registry="${ECR}"}`)).toBe('1');
    expect(values.get('berth_daemon_token_stale{registry="ghcr.io"}')).toBe('0');
  });

  it('escapes backslash, quote and newline in label values', () => {
    const page = renderMetrics([status({ registryHost: 'a\\b"c\nd' })], new RequestMetrics(), NOW);
    expect(page).toContain('berth_daemon_token_stale{registry="a\\\\b\\"c\\nd"} 0\n');
    expect(page.split('\n').every((line) => line === '' || /^(# |berth_daemon_)/.test(line))).toBe(true);
  });
});

describe('RequestMetrics', () => {
  it('counts requests by route and status', () => {
    const metrics = new RequestMetrics();
    metrics.observe('/v1/credentials', 200, 0.0002);
    metrics.observe('/v1/credentials', 200, 0.0003);
    metrics.observe('/v1/credentials', 502, 1.5);
    metrics.observe('/healthz', 200, 0.0001);
    const values = samples(`${metrics.render().join('\n')}\n`);
    expect(values.get('berth_daemon_requests_total{route="/v1/credentials",status="200"}')).toBe('2');
    expect(values.get('berth_daemon_requests_total{route="/v1/credentials",status="502"}')).toBe('1');
    expect(values.get('berth_daemon_requests_total{route="/healthz",status="200"}')).toBe('1');
  });

  it('histogram buckets are cumulative, with le on the bound itself, +Inf, sum and count', () => {
    const metrics = new RequestMetrics();
    for (const seconds of [0.0005, 0.0006, 0.01, 3, 60]) metrics.observe('/v1/credentials', 200, seconds);
    const values = samples(`${metrics.render().join('\n')}\n`);
    const bucket = (le: string) => values.get(`berth_daemon_request_duration_seconds_bucket{route="/v1/credentials",le="${le}"}`);
    expect(bucket('0.0005')).toBe('1'); // a value equal to the bound falls in that bucket
    expect(bucket('0.001')).toBe('2');
    expect(bucket('0.01')).toBe('3');
    expect(bucket('2.5')).toBe('3');
    expect(bucket('5')).toBe('4');
    expect(bucket('10')).toBe('4');
    expect(bucket('+Inf')).toBe('5');
    expect(Number(values.get('berth_daemon_request_duration_seconds_sum{route="/v1/credentials"}'))).toBeCloseTo(63.0111, 6);
    expect(values.get('berth_daemon_request_duration_seconds_count{route="/v1/credentials"}')).toBe('5');
    const bounds = [...values.keys()].filter((key) => key.includes('_bucket')).map((key) => /le="([^"]+)"/.exec(key)![1]);
    expect(bounds.at(-1)).toBe('+Inf');
    const numeric = bounds.slice(0, -1).map(Number);
    expect(numeric).toEqual([...numeric].sort((a, b) => a - b));
  });
});
