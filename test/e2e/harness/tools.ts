/**
 * @module
 * Real components the end-to-end tests need. In CI a missing one FAILS the test; on a developer
 * machine the test is skipped with a message naming the Debian package to install.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export interface Tool {
  /** A program on PATH, or an absolute path. */
  program: string;
  debianPackage: string;
  /** Arguments of a run that must succeed for the tool to count as present. */
  probe?: string[];
}

export const TOOLS = {
  registry: { program: 'docker-registry', debianPackage: 'docker-registry' },
  htpasswd: { program: 'htpasswd', debianPackage: 'apache2-utils' },
  skopeo: { program: 'skopeo', debianPackage: 'skopeo' },
  debianPython: { program: '/usr/bin/python3', debianPackage: 'python3-docker', probe: ['-c', 'import docker.credentials'] },
  secretservice: { program: 'docker-credential-secretservice', debianPackage: 'golang-docker-credential-helpers' },
  dbus: { program: 'dbus-run-session', debianPackage: 'dbus-daemon' },
  gnomeKeyring: { program: 'gnome-keyring-daemon', debianPackage: 'gnome-keyring' },
  pass: { program: 'pass', debianPackage: 'pass' },
  kubectl: { program: 'kubectl', debianPackage: 'kubernetes-client' },
} satisfies Record<string, Tool>;

export function findProgram(program: string, path = process.env.PATH ?? ''): string | undefined {
  const candidates = program.includes('/')
    ? [program]
    : path
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** The tools that are missing, as an install hint; '' when all are there. */
export function missingTools(tools: readonly Tool[]): string {
  const missing = tools.filter((tool) => {
    const path = findProgram(tool.program);
    return !path || (tool.probe !== undefined && spawnSync(path, tool.probe, { stdio: 'ignore', timeout: 30_000 }).status !== 0);
  });
  if (missing.length === 0) return '';
  const packages = [...new Set(missing.map((tool) => tool.debianPackage))].join(' ');
  return `${missing.map((tool) => tool.program).join(', ')} not found (apt install ${packages})`;
}

/**
 * Call at the start of a test: fails it in CI, skips it elsewhere, when a tool is missing.
 * `skip` is vitest's `ctx.skip`.
 */
export function requireTools(tools: readonly Tool[], skip: (note: string) => void): void {
  const missing = missingTools(tools);
  if (missing === '') return;
  if (process.env.CI) throw new Error(`required for this test: ${missing}`);
  process.stderr.write(`skipped: ${missing}\n`);
  skip(missing);
}
