/** What `npm pack` ships (the README installs from its tarball): the build, the unit, the docs, the Dockerfiles, the licence. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

describe('the npm package', () => {
  it('holds the CLI, helper, daemon and generator bundles, the systemd unit, docs, Dockerfiles and LICENSE', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const files = (JSON.parse(out) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
    for (const path of [
      'dist/berth.cjs',
      'dist/berth.js',
      'dist/docker-credential-berth.js',
      'dist/berth-daemon.js',
      'dist/generator/berth-generate.js',
      'daemon/berth-daemon.service',
      'docs/daemon.md',
      'docs/generators.md',
      'Dockerfiles/static.Dockerfile',
      'Dockerfiles/daemon.Dockerfile',
      'LICENSE',
      'README.md',
    ]) {
      expect(files).toContain(path);
    }
    expect(files.filter((path) => path.startsWith('test/') || path.startsWith('node_modules/'))).toEqual([]);
  });
});
