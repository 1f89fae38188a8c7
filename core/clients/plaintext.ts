/**
 * @module
 * Plaintext credentials in client files: docker's `config.json`, containers/image's two `auth.json`
 * files and the legacy `~/.dockercfg` (`auths.*.auth`, `username`/`password`, `identitytoken`,
 * `registrytoken`), and the `DOCKER_AUTH_CONFIG` variable. Pure reading and planning: which entries
 * hold a secret, and the text of a file with some of them stripped (every other field, its value
 * and the key order kept). `migrate.ts` moves them; `doctor.ts` lists them.
 */
import { readFile, realpath, stat } from 'node:fs/promises';
import { join } from '../io/path.js';
import { applyEdits, modify, type ParseError, parse as parseJsonc } from 'jsonc-parser';
import { oneLine } from '../errors.js';
import { containersAuthFile, dockerConfigFile, type Env } from '../paths.js';
import { registryKey } from '../registry-host.js';
import { containersPrimaryAuthFile, formattingOf } from './config-files.js';

export type PlaintextFileKind = 'docker' | 'containers' | 'containers-runtime' | 'dockercfg';

export interface PlaintextFile {
  kind: PlaintextFileKind;
  path: string;
  /** Where the bytes live: a symlinked dotfile stays a symlink. */
  realPath: string;
  text: string;
  mode: number;
  /** The object holding the registry entries: `auths`, or the whole file for `.dockercfg`. */
  entries: Record<string, unknown>;
}

/** The fields of an entry that hold (or, for `username`, go with) a secret. */
const SECRET_FIELDS = ['auth', 'username', 'password', 'identitytoken'] as const;

export interface PlaintextEntry {
  file: PlaintextFile;
  /** The entry's name as written (`https://index.docker.io/v1/`, `ghcr.io`). */
  name: string;
  registryKey: string;
  username: string;
  secret: string;
}

/** A secret berth cannot move: a `registrytoken` (no helper protocol carries one), a bad `auth`. */
export interface UnmovableEntry {
  file: PlaintextFile;
  name: string;
  reason: string;
}

export interface PlaintextScan {
  files: PlaintextFile[];
  entries: PlaintextEntry[];
  unmovable: UnmovableEntry[];
  /** One line per file that exists but cannot be parsed; such a file is left untouched. */
  problems: string[];
}

function candidateFiles(env: Env): { kind: PlaintextFileKind; path: string }[] {
  const home = env.HOME || '';
  const files: { kind: PlaintextFileKind; path: string }[] = [
    { kind: 'docker', path: dockerConfigFile(env) },
    { kind: 'containers', path: containersAuthFile(env) },
  ];
  const runtime = containersPrimaryAuthFile(env);
  if (runtime !== undefined && runtime !== containersAuthFile(env)) files.push({ kind: 'containers-runtime', path: runtime });
  if (home !== '') files.push({ kind: 'dockercfg', path: join(home, '.dockercfg') });
  return files;
}

async function readPlaintextFile(kind: PlaintextFileKind, path: string): Promise<PlaintextFile | string | undefined> {
  let realPath: string;
  let text: string;
  let mode: number;
  try {
    realPath = await realpath(path);
    text = await readFile(realPath, 'utf8');
    mode = (await stat(realPath)).mode & 0o777;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return `cannot read ${path}: ${oneLine(err)}; left untouched`;
  }
  if (text.trim() === '') return undefined;
  const errors: ParseError[] = [];
  const json: unknown = parseJsonc(text, errors, { allowTrailingComma: false, disallowComments: true });
  if (errors.length > 0 || json === null || typeof json !== 'object' || Array.isArray(json)) {
    const line = errors.length > 0 ? ` (line ${text.slice(0, errors[0]!.offset).split('\n').length})` : '';
    return `${path} is not a JSON object${line}; left untouched`;
  }
  const entries = kind === 'dockercfg' ? json : (json as Record<string, unknown>).auths;
  if (entries === undefined) return { kind, path, realPath, text, mode, entries: {} };
  if (entries === null || typeof entries !== 'object' || Array.isArray(entries)) return `${path}: "auths" is not an object; left untouched`;
  return { kind, path, realPath, text, mode, entries: entries as Record<string, unknown> };
}

const nonEmpty = (value: unknown): value is string => typeof value === 'string' && value !== '';

/** The credential in one entry: undefined when it holds none, a string when it cannot be moved. */
export function entryCredential(value: unknown): { username: string; secret: string } | string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const fields = value as Record<string, unknown>;
  if (nonEmpty(fields.identitytoken)) return { username: '<token>', secret: fields.identitytoken };
  if (nonEmpty(fields.auth)) {
    const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(fields.auth) ? Buffer.from(fields.auth, 'base64').toString('utf8') : '';
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1) return '"auth" is not base64 of "user:password"';
    return { username: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
  }
  if (nonEmpty(fields.username) && nonEmpty(fields.password)) return { username: fields.username, secret: fields.password };
  if (nonEmpty(fields.password)) return '"password" without a "username"';
  if (nonEmpty(fields.registrytoken)) {
    return 'a "registrytoken" (a short-lived bearer token no credential helper can hold): run docker logout and log in again through berth';
  }
  return undefined;
}

/** Every plaintext credential in the client files; unreadable files are named in `problems`. */
export async function scanPlaintext(env: Env): Promise<PlaintextScan> {
  const scan: PlaintextScan = { files: [], entries: [], unmovable: [], problems: [] };
  for (const { kind, path } of candidateFiles(env)) {
    const file = await readPlaintextFile(kind, path);
    if (file === undefined) continue;
    if (typeof file === 'string') {
      scan.problems.push(file);
      continue;
    }
    scan.files.push(file);
    for (const [name, value] of Object.entries(file.entries)) {
      const credential = entryCredential(value);
      if (credential === undefined) continue;
      const key = registryKey(name);
      if (typeof credential === 'string' || key === '') {
        scan.unmovable.push({ file, name, reason: typeof credential === 'string' ? credential : 'the entry names no registry' });
        continue;
      }
      scan.entries.push({ file, name, registryKey: key, ...credential });
    }
  }
  return scan;
}

/** The text of `file` with the secret fields of `names` removed, everything else kept. */
export function stripSecrets(file: PlaintextFile, names: readonly string[]): string {
  let text = file.text;
  const base = file.kind === 'dockercfg' ? [] : ['auths'];
  for (const name of names) {
    const value = file.entries[name] as Record<string, unknown>;
    const left = Object.keys(value).filter((field) => !(SECRET_FIELDS as readonly string[]).includes(field));
    const formattingOptions = formattingOf(text);
    // containers/image needs no empty marker; docker keeps `{}` entries as its list of logins.
    if (left.length === 0 && (file.kind === 'containers' || file.kind === 'containers-runtime')) {
      text = applyEdits(text, modify(text, [...base, name], undefined, { formattingOptions }));
      continue;
    }
    for (const field of SECRET_FIELDS) {
      if (field in value) text = applyEdits(text, modify(text, [...base, name, field], undefined, { formattingOptions }));
    }
  }
  return text;
}

/** The plaintext logins in `DOCKER_AUTH_CONFIG` (a config.json in a variable), for doctor. */
export function plaintextInEnv(env: Env): { names: string[]; problem?: string } {
  const text = env.DOCKER_AUTH_CONFIG;
  if (!text) return { names: [] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { names: [], problem: 'DOCKER_AUTH_CONFIG is set but is not JSON' };
  }
  const auths = (json as { auths?: unknown } | null)?.auths;
  if (auths === null || typeof auths !== 'object') return { names: [] };
  return { names: Object.entries(auths as Record<string, unknown>).flatMap(([name, value]) => (entryCredential(value) ? [name] : [])) };
}
