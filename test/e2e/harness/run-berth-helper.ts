/**
 * @module
 * Runs the built `docker-credential-berth` of the selected build (harness/build.ts) as a client would: a fresh process per action,
 * stdin in, stdout/stderr/exit code out, with a fresh HOME and XDG dirs so nothing of the user's
 * leaks in. Tests that use it need `npm run build` first (`npm test` does that).
 */
import { spawn } from 'node:child_process';
import { fixtureDir, homeEnv, removeDir } from '../../fakes/temp.js';
import { argvFor, berthCommand } from './build.js';

export interface HelperResult {
  /** null when the helper was killed at the deadline. */
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export type HelperEnv = Record<string, string | undefined>;

export function requireBuiltHelper(): void {
  berthCommand('helper'); // throws when not built
}

/** A temporary HOME with XDG dirs under it; `remove()` deletes it. */
export async function tempHome(): Promise<{ dir: string; env: HelperEnv; remove(): Promise<void> }> {
  const dir = await fixtureDir('berth-home-');
  const env: HelperEnv = { PATH: process.env.PATH, ...homeEnv(dir) };
  return { dir, env, remove: () => removeDir(dir) };
}

export function runHelper(action: string, options: { env: HelperEnv; input?: string; timeoutMs?: number }): Promise<HelperResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(...argvFor('helper', [action]), {
      env: Object.fromEntries(Object.entries(options.env).filter(([, v]) => v !== undefined)),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 90_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
    child.stdin.on('error', () => undefined);
    // `list` must not read stdin (docker-py hands the helper its own): leave it open, as docker-py does.
    if (action !== 'list') child.stdin.end(options.input ?? '');
  });
}

/** The JSON `store` reads. */
export function credentialsJSON(serverURL: string, username: string, secret: string): string {
  return JSON.stringify({ ServerURL: serverURL, Username: username, Secret: secret });
}
