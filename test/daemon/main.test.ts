/**
 * The daemon's bearer token file for --listen: created 0600 when absent, refused when it is open to
 * others or belongs to someone else (a root daemon would otherwise accept a token another user wrote).
 */
import { chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadOrCreateToken } from '../../daemon/main.js';
import { DaemonStartError } from '../../daemon/server.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-daemon-token-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadOrCreateToken', () => {
  it('creates a 0600 token file when absent and reads it back', async () => {
    const file = join(dir, 'daemon.token');
    const token = await loadOrCreateToken(file);
    expect(token.length).toBeGreaterThanOrEqual(32);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await loadOrCreateToken(file)).toBe(token);
    expect((await readFile(file, 'utf8')).trim()).toBe(token);
  });

  it('refuses a token file others can read', async () => {
    const file = join(dir, 'open.token');
    await writeFile(file, 'a'.repeat(40), { mode: 0o644 });
    await expect(loadOrCreateToken(file)).rejects.toThrow(`token file ${file} is readable by other users`);
  });

  // chown needs root; CI runs as root, so there the case always runs.
  it.skipIf(process.getuid?.() !== 0 && !process.env.CI)('refuses a token file owned by another user, naming the owner', async () => {
    const file = join(dir, 'planted.token');
    await writeFile(file, 'b'.repeat(40), { mode: 0o600 });
    await chown(file, 65534, 65534);
    const failure = loadOrCreateToken(file);
    await expect(failure).rejects.toThrow(DaemonStartError);
    await expect(loadOrCreateToken(file)).rejects.toThrow(
      new RegExp(`^token file ${file} belongs to (nobody \\()?uid 65534\\)?, not to the user running the daemon$`),
    );
  });
});
