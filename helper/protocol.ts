/**
 * @module
 * The credential-helper protocol of docker-credential-helpers, byte for byte: one action, stdin in,
 * stdout out. Errors are one line on stdout and exit 1; the not-found text is a constant that
 * clients compare. `list` never reads stdin (docker-py hands the helper its own stdin).
 */
import { NOT_FOUND_MESSAGE, NotFoundError, UsageError, oneLine } from '../core/errors.js';
import { loadPackage } from '../core/io/packages.js';
import { hintOf, messages } from '../core/io/messages.js';
import type { Env } from '../core/paths.js';
import { readAll } from '../core/io/stdin.js';
import { registryKey } from '../core/registry-host.js';
import type { Credential, Store } from '../core/store/store.js';

export const ACTIONS = ['store', 'get', 'erase', 'list', 'version'] as const;
export type Action = (typeof ACTIONS)[number];

export interface HelperIO {
  stdin: NodeJS.ReadableStream;
  /** Reads all of stdin; default `readAll(stdin)`. `list` and `version` never call it. */
  readStdin?: () => Promise<string>;
  stdout: { write(text: string): unknown };
  /** Diagnostics only: clients never read it, users see it in their terminal. */
  stderr: { write(text: string): unknown };
}

export interface HelperDeps {
  openStore: () => Promise<Store>;
  /** Resolves credentials that are not in the store (cloud providers); undefined when none applies. */
  resolve?: (serverURL: string) => Promise<Credential | undefined>;
  /**
   * After a `store`: point the client files that already use berth at this registry too (so a
   * `docker login` reaches skopeo and podman). Returns notes for stderr; a failure there does not
   * undo the store.
   */
  afterStore?: (registryKey: string) => Promise<string[]>;
  version: string;
  /** For BERTH_DEBUG; the helper never reads its own environment. */
  env?: Env;
}

export function isAction(name: string): name is Action {
  return (ACTIONS as readonly string[]).includes(name);
}

export function usage(program: string): string {
  return `Usage: ${program} <store|get|erase|list|version>`;
}

/** Runs one action and returns the exit code. */
export async function handleCommand(action: Action, deps: HelperDeps, io: HelperIO): Promise<number> {
  try {
    const output = await run(action, deps, io);
    if (output !== undefined) io.stdout.write(output);
    return 0;
  } catch (err) {
    // The protocol's line on stdout, byte for byte; what a person needs goes to stderr: why a
    // registry was not found (its cause and that cause's hint), or the fix for any other error.
    io.stdout.write(`${oneLine(err)}\n`);
    const say = messages(io.stderr, deps.env ?? {});
    if (err instanceof NotFoundError) {
      if (err.cause !== undefined) say.errorLine(err.cause);
    } else {
      const hint = hintOf(err);
      if (hint) say.hint(hint);
    }
    return 1;
  }
}

async function run(action: Action, deps: HelperDeps, io: HelperIO): Promise<string | undefined> {
  switch (action) {
    case 'version':
      return `docker-credential-berth berth ${deps.version}\n`;
    case 'list': {
      const store = await deps.openStore();
      return `${JSON.stringify(await store.list())}\n`;
    }
    case 'store': {
      const { serverURL, ...credential } = await parseCredentials(await readInput(io));
      const store = await deps.openStore();
      const key = registryKey(serverURL);
      await store.set(key, credential);
      const say = messages(io.stderr, deps.env ?? {});
      try {
        for (const note of (await deps.afterStore?.(key)) ?? []) say.warning(note);
      } catch (err) {
        say.warning(`stored, but could not add ${key} to the client config files: ${oneLine(err)}`);
      }
      return undefined;
    }
    case 'get': {
      const serverURL = await readServerURL(io);
      const store = await deps.openStore();
      const found = (await store.get(registryKey(serverURL))) ?? (await deps.resolve?.(serverURL));
      if (!found) throw new NotFoundError();
      return `${JSON.stringify({ ServerURL: serverURL, Username: found.username, Secret: found.secret })}\n`;
    }
    case 'erase': {
      const serverURL = await readServerURL(io);
      const store = await deps.openStore();
      await store.erase(registryKey(serverURL));
      return undefined;
    }
  }
}

function readInput(io: HelperIO): Promise<string> {
  return io.readStdin ? io.readStdin() : readAll(io.stdin);
}

async function readServerURL(io: HelperIO): Promise<string> {
  const serverURL = (await readInput(io)).trim();
  if (serverURL === '' || registryKey(serverURL) === '') throw new UsageError('no credentials server URL');
  return serverURL;
}

/** Parses `store`'s input: `{"ServerURL","Username","Secret"}`, with docker-credential-helpers' messages. */
export async function parseCredentials(text: string): Promise<Credential & { serverURL: string }> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // V8's message quotes the input, which may be a bare token: say only where it broke.
    throw new UsageError(`invalid credentials JSON on stdin: ${await whereJsonBreaks(text)}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UsageError('invalid credentials JSON on stdin: expected an object with ServerURL, Username, Secret');
  }
  const record = parsed as Record<string, unknown>;
  for (const field of ['ServerURL', 'Username', 'Secret']) {
    if (record[field] !== undefined && typeof record[field] !== 'string') {
      throw new UsageError(`invalid credentials JSON on stdin: ${field} must be a string`);
    }
  }
  const serverURL = ((record.ServerURL as string | undefined) ?? '').trim();
  const username = (record.Username as string | undefined) ?? '';
  const secret = (record.Secret as string | undefined) ?? '';
  if (serverURL === '' || registryKey(serverURL) === '') throw new UsageError('no credentials server URL');
  if (username === '') throw new UsageError('no credentials username');
  if (secret === '') throw new UsageError('no credentials secret');
  return { serverURL, username, secret };
}

/**
 * Where `text` stops being JSON, as line, column and offset, never quoting it. jsonc-parser (in
 * strict mode) finds the same first error JSON.parse does; it is loaded only on this error path.
 */
export async function whereJsonBreaks(text: string): Promise<string> {
  if (text.trim() === '') return 'the input is empty';
  const { parse, printParseErrorCode } = await loadPackage('jsonc-parser');
  const errors: import('jsonc-parser').ParseError[] = [];
  parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const first = errors[0];
  if (!first) return 'not valid JSON';
  const before = text.slice(0, first.offset);
  const line = before.split('\n').length;
  const column = first.offset - before.lastIndexOf('\n');
  const what = printParseErrorCode(first.error)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return `${what} at line ${line}, column ${column} (offset ${first.offset})`;
}

export { NOT_FOUND_MESSAGE };
