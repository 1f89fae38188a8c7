import { describe, expect, it } from 'vitest';
import { formatDuration, formatStatus, type StatusReply } from '../../../cli/commands/daemon-status.js';
import { parseListen } from '../../../cli/commands/daemon.js';

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59_999, '59s'],
    [60_000, '1m00s'],
    [3_599_000, '59m59s'],
    [3_600_000, '1h00m'],
    [12 * 3_600_000, '12h00m'],
    [-185_000, 'expired 3m05s ago'],
  ])('%i ms → %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatStatus', () => {
  const now = '2026-01-01T12:00:00.000Z';
  it('one line per registry: age, expiry, and the last error only while stale', () => {
    const reply: StatusReply = {
      version: '1.2.3',
      pid: 42,
      now,
      registries: [
        {
          registryHost: 'europe-docker.pkg.dev',
          fetchedAt: '2026-01-01T11:12:48.000Z',
          expiresAt: '2026-01-01T12:12:48.000Z',
          refreshing: false,
          consecutiveFailures: 2,
          lastError: { message: 'ThrottlingException: Rate exceeded', at: '2026-01-01T11:59:56.000Z' },
          nextRetryAt: '2026-01-01T12:00:03.000Z',
          refreshes: 1,
          failures: 2,
        },
        {
          registryHost: '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
          fetchedAt: '2026-01-01T08:48:00.000Z',
          expiresAt: '2026-01-01T20:48:00.000Z',
          refreshing: false,
          consecutiveFailures: 0,
          lastError: { message: 'old news', at: '2026-01-01T08:00:00.000Z' },
          refreshes: 3,
          failures: 1,
        },
        {
          registryHost: 'ghcr.io',
          refreshing: true,
          consecutiveFailures: 1,
          lastError: { message: 'no credentials for ghcr.io', at: now },
          refreshes: 0,
          failures: 1,
        },
      ],
    };
    expect(formatStatus(reply, '/run/user/1000/berth/daemon.sock')).toBe(
      [
        'berth daemon 1.2.3, pid 42, /run/user/1000/berth/daemon.sock',
        'REGISTRY                                      TOKEN AGE  EXPIRES IN  LAST REFRESH ERROR',
        '123456789012.dkr.ecr.eu-west-1.amazonaws.com  3h12m      8h48m       -',
        'europe-docker.pkg.dev                         47m12s     12m48s      ThrottlingException: Rate exceeded (2 in a row, 4s ago, retry in 3s)',
        'ghcr.io                                       -          no token    no credentials for ghcr.io (1 in a row, 0s ago)',
        '',
      ].join('\n'),
    );
  });

  it('says so when nothing has been requested', () => {
    expect(formatStatus({ version: '1', pid: 1, now, registries: [] }, '/s')).toBe(
      'berth daemon 1, pid 1, /s\nno registry requested yet\n',
    );
  });
});

describe('parseListen', () => {
  it.each([
    ['127.0.0.1:7583', { host: '127.0.0.1', port: 7583 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
    ['[::1]:80', { host: '::1', port: 80 }],
  ])('%s', (text, expected) => {
    expect(parseListen(text)).toEqual(expected);
  });

  it.each(['7583', '127.0.0.1', '127.0.0.1:99999', '127.0.0.1:port', ':80'])('refuses %s', (text) => {
    expect(() => parseListen(text)).toThrow(/expected HOST:PORT/);
  });
});
