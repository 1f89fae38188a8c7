/**
 * @module
 * Vitest global setup: the whole run gets a private temporary directory (TMPDIR, which `os.tmpdir()`
 * and the tools the tests start read), and the run fails if any test left something in it. A private
 * directory keeps the check exact on a machine where other programs use /tmp at the same time.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'berth-suite-'));
  // As /tmp itself: tests that drop to an unprivileged user still make their temporary files here.
  chmodSync(dir, 0o1777);
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    const left = readdirSync(dir);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    if (left.length > 0) throw new Error(`the tests left ${left.length} entries in the temp dir: ${left.sort().join(', ')}`);
  };
}
