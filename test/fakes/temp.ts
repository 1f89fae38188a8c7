/**
 * @module
 * Fresh temporary directories for tests, each removed when its test (or its file) is done, and a
 * home laid out as berth expects one (HOME plus every XDG directory inside it). Every test gets its
 * temporary directories here, so the suite leaves nothing behind in `os.tmpdir()`
 * (test/tmpdir-setup.ts checks).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, onTestFinished } from 'vitest';
import type { Env } from '../../core/paths.js';

/** Removes a directory tree; an absent one is fine. */
export function removeDir(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * A new empty directory that the caller removes (with `removeDir`): for fixtures that outlive one
 * test and have a `stop()` or `remove()` of their own (a registry, a bus, a pass store).
 */
export function fixtureDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/**
 * A new empty directory, removed when the current test finishes. Call it inside a test or a
 * `beforeEach`; for a directory shared by a whole file, use `useTempDir(prefix, 'file')`.
 */
export async function tempDir(prefix = 'berth-test-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  onTestFinished(() => removeDir(dir));
  return dir;
}

/**
 * Registers a directory made before each test (`each`) or once before the file's tests (`file`), and
 * removed after them. Call at the top of a file or a `describe`; read the path through the getter.
 */
export function useTempDir(prefix = 'berth-test-', scope: 'each' | 'file' = 'each'): () => string {
  let dir: string | undefined;
  const [before, after] = scope === 'each' ? [beforeEach, afterEach] : [beforeAll, afterAll];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    dir = undefined;
  });
  return () => {
    if (dir === undefined) throw new Error('useTempDir: the directory exists only while a test runs');
    return dir;
  };
}

/** HOME and the XDG directories, all inside `dir` (none created): a user with nothing set up. */
export function homeEnv(dir: string): Env {
  return {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_DATA_HOME: join(dir, '.local/share'),
    XDG_CACHE_HOME: join(dir, '.cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
  };
}

/** The directories `homeEnv` may create inside a home: what a "nothing else was left" check ignores. */
export const HOME_DIRS = ['.config', '.local', '.cache', 'run'];
