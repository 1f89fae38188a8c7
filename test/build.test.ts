/**
 * What `npm run build` leaves for an install like the Go helpers': dist/release/berth-linux-x64 with
 * a SHA256SUMS that `sha256sum -c` accepts, the same bytes as dist/bin/berth, and
 * dist/bin/docker-credential-berth a relative symlink to it (so the pair can be moved together).
 * The npm package carries the Node build only.
 */
import { execFile } from 'node:child_process';
import { readFile, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BINARY, BINARY_HELPER, DIST, ROOT, berthCommand } from './e2e/harness/build.js';

const run = promisify(execFile);
const RELEASE = join(DIST, 'release');

beforeAll(() => {
  berthCommand('berth', 'binary'); // throws when not built
});

describe('npm run build', () => {
  it('writes dist/release/berth-linux-x64 and a SHA256SUMS that sha256sum -c accepts', async () => {
    const sums = await readFile(join(RELEASE, 'SHA256SUMS'), 'utf8');
    expect(sums).toMatch(/^[0-9a-f]{64} {2}berth-linux-x64\n$/);
    const { stdout } = await run('sha256sum', ['-c', 'SHA256SUMS'], { cwd: RELEASE });
    expect(stdout).toBe('berth-linux-x64: OK\n');
    expect((await readFile(join(RELEASE, 'berth-linux-x64'))).equals(await readFile(BINARY))).toBe(true);
    expect((await stat(join(RELEASE, 'berth-linux-x64'))).mode & 0o111).toBe(0o111);
  });

  it('links dist/bin/docker-credential-berth to the executable beside it', async () => {
    expect(await readlink(BINARY_HELPER)).toBe('berth');
  });

  it('leaves the executables out of the npm package, which runs on Node', async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const files = (JSON.parse(stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
    expect(files).toContain('dist/docker-credential-berth.cjs');
    // the helper's bundle and the code cache its loader starts it with
    expect(files).toContain('dist/helper.cjs');
    expect(files).toContain('dist/helper.cjs.cache');
    expect(files).toContain('dist/berth.js');
    // the plain decrypt and encrypt: the bundle `berth`'s loader runs, and its code cache
    expect(files).toContain('dist/berth.cjs');
    expect(files).toContain('dist/berth-fast.cjs');
    expect(files).toContain('dist/berth-fast.cjs.cache');
    expect(files.filter((path) => path.startsWith('dist/bin/') || path.startsWith('dist/release/'))).toEqual([]);
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: Record<string, string> };
    expect(pkg.bin).toEqual({ 'docker-credential-berth': 'dist/docker-credential-berth.cjs', berth: 'dist/berth.cjs' });
  });
});
