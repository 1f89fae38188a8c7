/**
 * @module
 * Which external programs a test file needs, and what happens when one is missing: in CI the file
 * fails (a missing component is a broken CI image, not a reason to pass); locally its tests are
 * skipped with a message naming the Debian package to install.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Finds `command` on PATH, as a shell would. */
export function onPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, command);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory: keep looking.
    }
  }
  return undefined;
}

/**
 * `commands` maps each program to the Debian package that provides it. Returns undefined when all are
 * there, else the reason to skip; throws instead when `CI` is set.
 */
export function missingComponents(commands: Record<string, string>): string | undefined {
  const missing = Object.entries(commands).filter(([command]) => onPath(command) === undefined);
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.map(([, pkg]) => pkg))].join(' ');
  const message = `missing ${missing.map(([c]) => c).join(', ')}: install the Debian package(s) ${packages}`;
  if (process.env.CI) throw new Error(`${message} (required in CI)`);
  console.warn(`skipping: ${message}`);
  return message;
}
