/**
 * @module
 * Env files (`KEY=VALUE` lines, as `docker run --env-file` reads them: the value is taken literally,
 * `#` starts a comment line, blank lines are skipped; an `export ` prefix is tolerated) and their
 * shell-safe form for `eval "$(berth decrypt --env FILE)"`. Errors name the line, never its value.
 */
import { UsageError } from '../errors.js';

export interface EnvEntry {
  readonly name: string;
  readonly value: string;
}

const ENTRY = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s;

export function parseEnvFile(text: string, source: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trimStart();
    if (line === '' || line.startsWith('#')) return;
    const match = ENTRY.exec(line);
    if (!match) {
      throw new UsageError(`${source}: line ${index + 1} is not NAME=VALUE with a valid variable name`, {
        hint: 'names are letters, digits and _ (not starting with a digit); values are taken literally',
      });
    }
    const value = match[2]!;
    if (value.includes('\0')) throw new UsageError(`${source}: line ${index + 1} contains a NUL byte`);
    entries.push({ name: match[1]!, value });
  });
  return entries;
}

/** Single-quotes a value for POSIX shells: nothing inside single quotes is special but `'`. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

export function formatExports(entries: readonly EnvEntry[]): string {
  return entries.map((entry) => `export ${entry.name}=${shellQuote(entry.value)}\n`).join('');
}

/** The variables as an object, later lines winning, as docker does. */
export function envObject(entries: readonly EnvEntry[]): Record<string, string> {
  return Object.fromEntries(entries.map((entry) => [entry.name, entry.value]));
}
