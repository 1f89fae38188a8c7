import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runningBerth, unitText } from '../../../cli/commands/daemon-unit.js';

const ROOT = join(import.meta.dirname, '../../..');

describe('the systemd user unit', () => {
  it('the shipped unit is the generated one for /usr/bin/env berth', () => {
    expect(readFileSync(join(ROOT, 'daemon/berth-daemon.service'), 'utf8')).toBe(unitText('/usr/bin/env berth'));
  });

  it.each([
    [
      '/usr/bin/node',
      '/home/a/.local/lib/node_modules/berth/dist/berth.js',
      true,
      '/usr/bin/node /home/a/.local/lib/node_modules/berth/dist/berth.js',
    ],
    [
      '/home/a/.nvm/versions/node/v22.1.0/bin/node',
      '/opt/my berth/dist/berth.js',
      true,
      '/home/a/.nvm/versions/node/v22.1.0/bin/node "/opt/my berth/dist/berth.js"',
    ],
    ['/home/a/.local/bin/berth', '/$bunfs/root/berth', false, '/home/a/.local/bin/berth'],
  ])('%s %s → ExecStart=%s', (execPath, script, exists, expected) => {
    expect(runningBerth(execPath, script, () => exists)).toBe(expected);
  });
});
