/**
 * @module
 * Running berth and real clients as child processes in an isolated home: HOME and XDG_* point at a
 * fresh temporary directory, PATH starts with a directory holding a `docker-credential-berth` shim
 * for the built helper of the selected build (harness/build.ts; the shim logs each action, never its
 * input). Every run is kept in a
 * transcript so a test can check that no secret reached any output it should not.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, join, resolve } from 'node:path';
import { fixtureDir, removeDir } from '../../fakes/temp.js';

export const DIST = resolve(import.meta.dirname, '../../../dist');
export const HELPER_JS = join(DIST, 'docker-credential-berth.js');
/** The package's `berth` bin (its loader runs the plain decrypt and encrypt itself, the rest from berth.js). */
export const BERTH_JS = join(DIST, 'berth.cjs');
import { argvFor, shimExec } from './build.js';

export interface RunResult {
  command: string;
  stdout: string;
  stderr: string;
  code: number | null;
}

export interface RunOptions {
  stdin?: string;
  /** This output is expected to carry a secret (a helper `get`); the secret scan skips it. */
  revealsSecret?: boolean;
  timeoutMs?: number;
  env?: Record<string, string>;
  /** The working directory (default: this process's). */
  cwd?: string;
}

export interface ClientHome {
  dir: string;
  env: Record<string, string>;
  /** Every run so far, for the secret scan. */
  transcript: (RunResult & { revealsSecret: boolean })[];
  run(program: string, args: string[], options?: RunOptions): Promise<RunResult>;
  berth(args: string[], options?: RunOptions): Promise<RunResult>;
  /** The actions the helper shim was started with, in order. */
  helperCalls(): Promise<string[]>;
  cleanup(): Promise<void>;
}

export async function clientHome(): Promise<ClientHome> {
  const dir = await fixtureDir('berth-e2e-');
  const bin = join(dir, 'bin');
  await mkdir(bin, { recursive: true });
  await mkdir(join(dir, 'run'), { recursive: true, mode: 0o700 });
  const callLog = join(dir, 'helper-calls.log');
  const shim = `#!/bin/sh\necho "$*" >> '${callLog}'\n${shimExec('helper')}\n`;
  await writeFile(join(bin, 'docker-credential-berth'), shim);
  await chmod(join(bin, 'docker-credential-berth'), 0o755);
  const env: Record<string, string> = {
    HOME: dir,
    XDG_CONFIG_HOME: join(dir, '.config'),
    XDG_DATA_HOME: join(dir, '.local/share'),
    XDG_CACHE_HOME: join(dir, '.cache'),
    XDG_RUNTIME_DIR: join(dir, 'run'),
    PATH: [bin, process.env.PATH ?? '/usr/bin:/bin'].join(delimiter),
    LANG: 'C.UTF-8',
  };
  const transcript: ClientHome['transcript'] = [];
  const run = async (program: string, args: string[], options: RunOptions = {}): Promise<RunResult> => {
    const result = await spawnCollect(program, args, { ...env, ...options.env }, options);
    transcript.push({ ...result, revealsSecret: options.revealsSecret ?? false });
    return result;
  };
  return {
    dir,
    env,
    transcript,
    run,
    berth: (args, options) => run(...argvFor('berth', args), options),
    helperCalls: async () => (await readFile(callLog, 'utf8').catch(() => '')).split('\n').filter(Boolean),
    cleanup: () => removeDir(dir),
  };
}

export function spawnCollect(program: string, args: string[], env: Record<string, string>, options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(program, args, { env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs ?? 60_000 });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) =>
      resolvePromise({
        command: [program, ...args].join(' '),
        stdout: Buffer.concat(out).toString(),
        stderr: Buffer.concat(err).toString(),
        code,
      }),
    );
    child.stdin.on('error', () => undefined); // a program that exits without reading stdin
    child.stdin.end(options.stdin ?? '');
  });
}
