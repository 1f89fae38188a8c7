/**
 * @module
 * Pointing real clients at berth: docker's `config.json` (`credsStore`, `credHelpers`) and
 * containers/image's `auth.json` (`credHelpers` only: containers/image never reads `credsStore` and
 * has no catch-all helper, so every registry berth knows gets its own entry). Files are edited in
 * place with jsonc-parser, so every other field, its value and the key order survive; writes are
 * atomic and keep the file's mode (0600 for a new file, since these files often hold `auths`).
 */
import { realpath, readFile, stat } from 'node:fs/promises';
import { join } from '../io/path.js';
import { applyEdits, modify, type ParseError, parse as parseJsonc, printParseErrorCode } from 'jsonc-parser';
import { describeSyntaxError } from '../config/json-errors.js';
import { oneLine, UsageError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { withStoreLock } from '../io/lock.js';
import { containersAuthFile, dockerConfigFile, type Env } from '../paths.js';
import { DOCKER_HUB_KEY, isDockerTokenKey, registryKey as storeKeyOf } from '../registry-host.js';
import type { Replaced } from './replaced.js';

/** The helper name clients turn into `docker-credential-berth`. */
export const HELPER_NAME = 'berth';

export type ClientName = 'docker' | 'containers';
export const CLIENT_NAMES: readonly ClientName[] = ['docker', 'containers'];

export interface ClientFile {
  client: ClientName;
  /** The path clients read (may be a symlink). */
  path: string;
  /** Where the bytes live: writes go here so a symlinked dotfile stays a symlink. */
  realPath: string;
  exists: boolean;
  text: string;
  /** Permission bits to keep on rewrite. */
  mode: number;
  json: Record<string, unknown>;
}

/** A planned rewrite of one file; `before === after` means nothing to do. */
export interface FileChange {
  file: ClientFile;
  after: string;
  /** One line per change, for the user ("credHelpers.ghcr.io = berth"). */
  changes: string[];
  /** Things the user should know that berth did not change. */
  warnings: string[];
  /** Entries naming another helper that this change replaces (for `unconfigure` to restore). */
  replaced?: Replaced;
}

export function clientFilePath(env: Env, client: ClientName): string {
  return client === 'docker' ? dockerConfigFile(env) : containersAuthFile(env);
}

/**
 * The key each client looks a registry up by. docker (and docker-py) ask for Docker Hub as
 * `https://index.docker.io/v1/`; containers/image asks for the bare domain of the image reference,
 * `docker.io` for Hub. Every other registry is `host[:port]` in both.
 */
export function clientKey(client: ClientName, registryKey: string): string {
  return client === 'containers' && registryKey === DOCKER_HUB_KEY ? 'docker.io' : registryKey;
}

export async function readClientFile(env: Env, client: ClientName, path = clientFilePath(env, client)): Promise<ClientFile> {
  let realPath = path;
  let text = '';
  let mode = 0o600;
  let exists = false;
  try {
    realPath = await realpath(path);
    text = await readFile(realPath, 'utf8');
    mode = (await stat(realPath)).mode & 0o777;
    exists = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
    }
  }
  return { client, path, realPath, exists, text, mode, json: parseClientJson(text, path) };
}

function parseClientJson(text: string, path: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  const errors: ParseError[] = [];
  const value: unknown = parseJsonc(text, errors, { allowTrailingComma: false, disallowComments: true });
  const first = errors[0];
  if (first) {
    const { position, problem } = describeSyntaxError(text, first.offset, printParseErrorCode(first.error));
    throw new UsageError(`${path}:${position}: not valid JSON (${problem}); berth changes nothing in it`, {
      hint: 'fix the file or move it aside, then run the command again',
    });
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${path} does not hold a JSON object; berth changes nothing in it`);
  }
  const credHelpers = (value as Record<string, unknown>).credHelpers;
  if (credHelpers !== undefined && (credHelpers === null || typeof credHelpers !== 'object' || Array.isArray(credHelpers))) {
    throw new UsageError(`${path}: credHelpers is not an object; berth changes nothing in it`);
  }
  return value as Record<string, unknown>;
}

export function credHelpersOf(file: ClientFile): Record<string, string> {
  return (file.json.credHelpers ?? {}) as Record<string, string>;
}

/** Does this file send at least one registry to berth? */
export function pointsAtBerth(file: ClientFile): boolean {
  return (file.client === 'docker' && file.json.credsStore === HELPER_NAME) || Object.values(credHelpersOf(file)).includes(HELPER_NAME);
}

/** Detects the file's indentation so an edit looks like its neighbours (docker and podman write tabs). */
export function formattingOf(text: string): { insertSpaces: boolean; tabSize: number; eol: string } {
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? '\t';
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  return indent.startsWith('\t') ? { insertSpaces: false, tabSize: 1, eol } : { insertSpaces: true, tabSize: indent.length, eol };
}

/** Builds a file's new text one edit at a time; each edit keeps everything around it. */
class Editor {
  text: string;
  readonly changes: string[] = [];
  readonly warnings: string[] = [];

  constructor(readonly file: ClientFile) {
    this.text = file.text.trim() === '' ? '{}\n' : file.text;
  }

  set(path: string[], value: string | undefined, description: string): void {
    const formattingOptions = formattingOf(this.text);
    this.text = applyEdits(this.text, modify(this.text, path, value, { formattingOptions }));
    this.changes.push(description);
  }

  result(): FileChange {
    const after = this.changes.length === 0 ? this.file.text : this.text;
    return { file: this.file, after, changes: this.changes, warnings: this.warnings };
  }
}

export interface ConfigureRequest {
  /** Registry keys (`registryKey()`) that get a `credHelpers` entry. */
  registryKeys: readonly string[];
  /** docker only: make berth the catch-all `credsStore`. */
  credsStore: boolean;
  /** Registry keys berth has credentials for; default `registryKeys`. */
  known?: readonly string[];
}

/** Plans the edit of one file that sends the requested registries to berth. */
export function planConfigure(file: ClientFile, request: ConfigureRequest): FileChange {
  const editor = new Editor(file);
  const replaced: Replaced = {};
  if (file.client === 'docker' && request.credsStore && file.json.credsStore !== HELPER_NAME) {
    const previous = file.json.credsStore;
    if (typeof previous === 'string' && previous !== '') replaced.credsStore = previous;
    editor.set(['credsStore'], HELPER_NAME, `credsStore: ${typeof previous === 'string' ? `${previous} → ` : ''}${HELPER_NAME}`);
  }
  const helpers = credHelpersOf(file);
  for (const wanted of new Set(request.registryKeys)) {
    const key = clientKey(file.client, wanted);
    if (helpers[key] === HELPER_NAME) continue;
    const previous = helpers[key];
    if (typeof previous === 'string' && previous !== '') replaced.credHelpers = { ...replaced.credHelpers, [key]: previous };
    editor.set(['credHelpers', key], HELPER_NAME, `credHelpers.${key}: ${previous ? `${previous} → ` : ''}${HELPER_NAME}`);
  }
  if (editor.changes.length > 0) editor.warnings.push(...inlineLoginWarnings(file, request));
  return { ...editor.result(), replaced };
}

/**
 * Inline logins under `auths` that clients stop using once berth answers for their registry: docker
 * asks a helper instead of reading `auths` (even when the helper has nothing), and containers/image
 * tries `credHelpers` first. The old secret stays in the file; say so, and say when berth has no
 * login to stand in for it.
 */
function inlineLoginWarnings(file: ClientFile, request: ConfigureRequest): string[] {
  const auths = (file.json.auths ?? {}) as Record<string, Record<string, unknown> | null>;
  const helpers = credHelpersOf(file);
  const known = new Set(request.known ?? request.registryKeys);
  const sentToBerth = new Set(request.registryKeys);
  const warnings: string[] = [];
  for (const [entry, value] of Object.entries(auths)) {
    const hasSecret = ['auth', 'password', 'identitytoken'].some((field) => typeof value?.[field] === 'string' && value[field] !== '');
    const key = storeKeyOf(entry);
    const otherHelper = helpers[clientKey(file.client, key)];
    const asksBerth =
      sentToBerth.has(key) || (request.credsStore && file.client === 'docker' && (!otherHelper || otherHelper === HELPER_NAME));
    if (!hasSecret || key === '' || !asksBerth) continue;
    warnings.push(
      known.has(key)
        ? `${file.path} still holds an inline login for ${entry} under "auths"; berth's is used now and the old one is left in the file`
        : `${file.path} has an inline login for ${entry} under "auths" that is no longer used, and berth has none (run: berth login ${key})`,
    );
  }
  return warnings;
}

/**
 * Plans the edit that stops sending anything to berth: berth's entries go, everything else stays.
 * An entry berth replaced (`restore`, from berth's state) gets its old helper back.
 */
export function planUnconfigure(file: ClientFile, restore: Replaced = {}): FileChange {
  const editor = new Editor(file);
  if (!file.exists) return editor.result();
  if (file.client === 'docker' && file.json.credsStore === HELPER_NAME) {
    if (restore.credsStore) editor.set(['credsStore'], restore.credsStore, `credsStore: ${HELPER_NAME} → ${restore.credsStore} (restored)`);
    else editor.set(['credsStore'], undefined, 'credsStore: removed');
  }
  const helpers = credHelpersOf(file);
  const ours = Object.keys(helpers).filter((key) => helpers[key] === HELPER_NAME);
  const restored = ours.filter((key) => restore.credHelpers?.[key]);
  for (const key of restored) {
    editor.set(
      ['credHelpers', key],
      restore.credHelpers![key],
      `credHelpers.${key}: ${HELPER_NAME} → ${restore.credHelpers![key]} (restored)`,
    );
  }
  if (restored.length > 0) {
    for (const key of ours.filter((key) => !restored.includes(key)))
      editor.set(['credHelpers', key], undefined, `credHelpers.${key}: removed`);
  } else if (ours.length > 0 && ours.length === Object.keys(helpers).length) {
    editor.set(['credHelpers'], undefined, `credHelpers: removed (${ours.join(', ')})`);
  } else {
    for (const key of ours) editor.set(['credHelpers', key], undefined, `credHelpers.${key}: removed`);
  }
  return editor.result();
}

/**
 * Writes a planned change atomically, keeping the file's mode. A no-op change writes nothing. If
 * someone (a `docker login`) rewrote the file since it was read, nothing is written: their change
 * would be lost.
 */
export async function applyChange(change: FileChange): Promise<boolean> {
  if (change.changes.length === 0) return false;
  const { file } = change;
  const current = await readFile(file.realPath, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (current !== (file.exists ? file.text : undefined)) {
    throw new UsageError(`${file.path} changed while berth was editing it; nothing was written`, { hint: 'run the command again' });
  }
  await writeFileAtomic(file.realPath, change.after, { mode: file.mode });
  return true;
}

/**
 * The primary auth file containers/image reads before `$XDG_CONFIG_HOME/containers/auth.json`:
 * `podman login` and `skopeo login` write there, and an `auths` entry in it wins over berth's
 * `credHelpers`. Undefined when it is the file berth edits.
 */
export function containersPrimaryAuthFile(env: Env): string | undefined {
  if (env.REGISTRY_AUTH_FILE) return undefined;
  const uid = typeof process.getuid === 'function' ? process.getuid() : 0;
  const runtimeDir = env.XDG_RUNTIME_DIR || join('/run/containers', String(uid));
  return join(runtimeDir, env.XDG_RUNTIME_DIR ? 'containers/auth.json' : 'auth.json');
}

/**
 * `podman login`, `buildah login` and `skopeo login` store through the primary auth file only: its
 * own `credHelpers` entry sends the login to berth, else it lands there as a base64 `auths` entry
 * (and `podman logout` finds nothing to remove). The primary file, when it is not the one berth
 * edits, or undefined.
 */
export async function readPrimaryAuthFile(env: Env): Promise<ClientFile | undefined> {
  const path = containersPrimaryAuthFile(env);
  if (path === undefined || path === containersAuthFile(env)) return undefined;
  return readClientFile(env, 'containers', path);
}

/**
 * Sends `registryKeys` to berth in the primary auth file too (entries naming another helper stay).
 * Returns the change made, or a warning when the file cannot be written. A file that is not JSON is
 * left alone: containers/image cannot use it either, and `--migrate` names it.
 */
export async function configurePrimaryAuthFile(env: Env, registryKeys: readonly string[]): Promise<FileChange | string | undefined> {
  const file = await readPrimaryAuthFile(env).catch(() => undefined);
  if (file === undefined) return undefined;
  try {
    const helpers = credHelpersOf(file);
    const keys = registryKeys.filter((key) => helpers[clientKey('containers', key)] === undefined);
    const change = planConfigure(file, { registryKeys: keys, credsStore: false });
    await applyChange(change);
    return change;
  } catch (err) {
    return `${file.path}: ${oneLine(err)}; podman login keeps storing logins inline there`;
  }
}

/** Registries whose `auths` entry in the primary auth file shadows berth for containers/image. */
export async function shadowedByPrimaryAuthFile(env: Env, registryKeys: readonly string[]): Promise<string[]> {
  const path = containersPrimaryAuthFile(env);
  if (path === undefined || path === containersAuthFile(env)) return [];
  let json: Record<string, unknown>;
  try {
    json = parseClientJson(await readFile(path, 'utf8'), path);
  } catch {
    return []; // absent or unreadable: containers/image skips it too
  }
  const auths = (json.auths ?? {}) as Record<string, unknown>;
  const helpers = (json.credHelpers ?? {}) as Record<string, unknown>;
  return registryKeys
    .map((key) => clientKey('containers', key))
    .filter((key) => Object.hasOwn(auths, key) && helpers[key] === undefined)
    .map((key) => `${path} holds a login for ${key} that containers/image uses before berth's (run: podman logout ${key})`);
}

/**
 * After `berth login`: if a client file already sends registries to berth, send this one there
 * too, so login and configure work in either order. docker with `credsStore: berth` needs nothing
 * itself, and counts as "configured" for auth.json.
 * Returns warnings for the user (an entry naming another helper is left alone).
 */
export async function addRegistryIfConfigured(env: Env, registryKey: string): Promise<string[]> {
  if (isDockerTokenKey(registryKey)) return []; // a token beside the Hub login, no registry of its own
  // Parallel `docker login`s each run a helper that may edit auth.json: one at a time, so none is
  // refused as "changed while berth was editing it" and none loses another's entry.
  return withStoreLock(env, 'client-files', () => addRegistryUnlocked(env, registryKey));
}

async function addRegistryUnlocked(env: Env, registryKey: string): Promise<string[]> {
  const warnings: string[] = [];
  const docker = await readClientFile(env, 'docker');
  const berthIsDockerStore = docker.json.credsStore === HELPER_NAME;
  for (const client of CLIENT_NAMES) {
    const file = client === 'docker' ? docker : await readClientFile(env, client);
    if (client === 'docker' && berthIsDockerStore) continue;
    // With berth as docker's store the user asked for berth everywhere; auth.json may simply have
    // had no registry to name when `berth configure` ran.
    if (!pointsAtBerth(file) && !(client === 'containers' && berthIsDockerStore)) continue;
    const key = clientKey(client, registryKey);
    const other = credHelpersOf(file)[key];
    if (other !== undefined && other !== HELPER_NAME) {
      warnings.push(`${file.path} sends ${key} to docker-credential-${other}; run: berth configure --registry ${key}`);
      continue;
    }
    const change = planConfigure(file, { registryKeys: [registryKey], credsStore: false });
    await applyChange(change);
    warnings.push(...change.warnings);
    if (client === 'containers') {
      const primary = await configurePrimaryAuthFile(env, [registryKey]);
      if (typeof primary === 'string') warnings.push(primary);
    }
  }
  return warnings;
}

/** Which registries a client file sends to berth, as client keys. */
export function berthRegistries(file: ClientFile): string[] {
  const helpers = credHelpersOf(file);
  return Object.keys(helpers).filter((key) => helpers[key] === HELPER_NAME);
}

/** Reads without throwing, for `doctor`: the error says why the file is unusable. */
export async function tryReadClientFile(env: Env, client: ClientName): Promise<ClientFile | Error> {
  try {
    return await readClientFile(env, client);
  } catch (err) {
    return err as Error;
  }
}
