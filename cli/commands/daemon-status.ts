/**
 * @module
 * How `berth daemon status` prints the daemon's `/v1/status` answer: one line per registry with its
 * token's age, time to expiry, and the last refresh error while the token is stale.
 */

export interface StatusReply {
  version: string;
  pid: number;
  now: string;
  registries: {
    registryHost: string;
    fetchedAt?: string;
    expiresAt?: string;
    refreshing: boolean;
    consecutiveFailures: number;
    lastError?: { message: string; at: string };
    nextRetryAt?: string;
    refreshes: number;
    failures: number;
  }[];
}

/** `1h02m`, `4m05s`, `12s`; negative durations read `expired 3m ago`. */
export function formatDuration(ms: number): string {
  const total = Math.floor(Math.abs(ms) / 1000);
  const [h, m, s] = [Math.floor(total / 3600), Math.floor((total % 3600) / 60), total % 60];
  const text = h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
  return ms < 0 ? `expired ${text} ago` : text;
}

export function formatStatus(reply: StatusReply, socketPath: string): string {
  const now = Date.parse(reply.now);
  const header = `berth daemon ${reply.version}, pid ${reply.pid}, ${socketPath}\n`;
  if (reply.registries.length === 0) return `${header}no registry requested yet\n`;
  const rows = [['REGISTRY', 'TOKEN AGE', 'EXPIRES IN', 'LAST REFRESH ERROR']];
  for (const r of [...reply.registries].sort((a, b) => a.registryHost.localeCompare(b.registryHost))) {
    const age = r.fetchedAt ? formatDuration(now - Date.parse(r.fetchedAt)) : '-';
    const expires = r.expiresAt ? formatDuration(Date.parse(r.expiresAt) - now) : 'no token';
    let error = '-';
    if (r.consecutiveFailures > 0 && r.lastError) {
      const retry = r.nextRetryAt ? `, retry in ${formatDuration(Date.parse(r.nextRetryAt) - now)}` : '';
      error = `${r.lastError.message} (${r.consecutiveFailures} in a row, ${formatDuration(now - Date.parse(r.lastError.at))} ago${retry})`;
    }
    rows.push([r.registryHost, age, expires, error]);
  }
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((row) => row[i]!.length)));
  return (
    header +
    rows
      .map((row) =>
        row
          .map((cell, i) => (i < 3 ? cell.padEnd(widths[i]!) : cell))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') +
    '\n'
  );
}
