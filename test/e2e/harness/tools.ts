/**
 * @module
 * The one checker for real components a test needs. In CI (`CI` set) a missing one FAILS the test: a
 * missing component is a broken CI image, not a reason to pass. On a developer machine the test is
 * skipped with a message naming the Debian package to install.
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
  dockerCredentialPass: { program: 'docker-credential-pass', debianPackage: 'golang-docker-credential-helpers' },
  dbus: { program: 'dbus-run-session', debianPackage: 'dbus-daemon' },
  dbusDaemon: { program: 'dbus-daemon', debianPackage: 'dbus-daemon' },
  dbusSend: { program: 'dbus-send', debianPackage: 'dbus-bin' },
  gnomeKeyring: { program: 'gnome-keyring-daemon', debianPackage: 'gnome-keyring' },
  secretTool: { program: 'secret-tool', debianPackage: 'libsecret-tools' },
  pass: { program: 'pass', debianPackage: 'pass' },
  gpg: { program: 'gpg', debianPackage: 'gnupg' },
  gpgconf: { program: 'gpgconf', debianPackage: 'gnupg' },
  git: { program: 'git', debianPackage: 'git' },
  kubectl: { program: 'kubectl', debianPackage: 'kubernetes-client' },
} satisfies Record<string, Tool>;

/** Finds `program` on PATH as a shell would (or checks an absolute path). */
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
  skip(skipOrFail(missing));
}

/**
 * For `describe.skipIf(...)`: the reason to skip a whole block ('' when nothing is missing); throws
 * in CI instead, which fails the file.
 */
export function skipUnlessTools(tools: readonly Tool[]): string {
  const missing = missingTools(tools);
  return missing === '' ? '' : skipOrFail(missing);
}

function skipOrFail(missing: string): string {
  if (process.env.CI) throw new Error(`required for this test: ${missing}`);
  process.stderr.write(`skipped: ${missing}\n`);
  return missing;
}
