/**
 * @module
 * The drop-in that makes containers/image (podman, buildah, skopeo) ask berth for every registry:
 * `$XDG_CONFIG_HOME/containers/registries.conf.d/50-berth.conf` with `credential-helpers =
 * ["berth", "containers-auth.json"]`. auth.json's `credHelpers` names registries one by one, so a
 * `podman login` to a registry berth had not heard of went into auth.json in plain text; with this,
 * lookups ask docker-credential-berth first and then the auth files (older plaintext logins still
 * work), and a login is stored by the first helper that takes it, berth (a namespaced login such as
 * `quay.io/team`, which no credential helper can hold, falls through to auth.json). A drop-in is
 * read beside the system's registries.conf and its drop-ins, so their search registries and short
 * names stay as they are. Only a file berth wrote (its first line says so) is replaced or removed.
 */
import { join } from '../io/path.js';
import { configHome, type Env } from '../paths.js';

const MARKER = '# Written by `berth configure`; `berth unconfigure` removes it.';

export const DROP_IN_TEXT = `${MARKER}
# podman, buildah and skopeo ask docker-credential-berth first for every registry, then the auth files.
credential-helpers = ["berth", "containers-auth.json"]
`;

export function dropInPath(env: Env): string {
  return join(configHome(env), 'containers', 'registries.conf.d', '50-berth.conf');
}

export interface DropInChange {
  path: string;
  /** The file as it is (undefined: none). */
  before: string | undefined;
  /** The file as it should be (undefined: none); equal to `before` when nothing changes. */
  after: string | undefined;
  /** One line per change, for the user. */
  changes: string[];
  warnings: string[];
}

async function readText(path: string): Promise<string | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

const ours = (text: string | undefined) => text?.startsWith(MARKER) === true;

export async function planDropIn(env: Env, verb: 'configure' | 'unconfigure'): Promise<DropInChange> {
  const path = dropInPath(env);
  const before = await readText(path);
  if (before !== undefined && !ours(before)) {
    return { path, before, after: before, changes: [], warnings: [`${path} was not written by berth; left as it is`] };
  }
  const after = verb === 'configure' ? DROP_IN_TEXT : undefined;
  const changes = before === after ? [] : [after === undefined ? 'removed' : 'credential-helpers = ["berth", "containers-auth.json"]'];
  return { path, before, after, changes, warnings: [] };
}

export async function applyDropIn(change: DropInChange): Promise<void> {
  if (change.before === change.after) return;
  if (change.after === undefined) {
    const { unlink } = await import('node:fs/promises');
    await unlink(change.path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    return;
  }
  const { writeFileAtomic } = await import('../io/atomic.js');
  await writeFileAtomic(change.path, change.after, { mode: 0o644 });
}
