/**
 * @module
 * The one CLI harness: `berth` run in a fresh temporary home, in-process (`berth`) or as the built
 * the selected build (harness/build.ts) in a child process (`berthProcess`), capturing stdout, stderr and the exit code.
 * `runScript` plays a case written as a script of command, stdin, stdout, stderr and exit code (the
 * shape of age's `cmd/age/testdata/*.txt`).
 */
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { expect } from 'vitest';
import { main } from '../../../cli/program.js';
import type { Env } from '../../../core/paths.js';
import { homeEnv, tempDir } from '../../fakes/temp.js';
import { argvFor, shimExec } from './build.js';

export interface CliResult {
  stdout: string;
  stderr: string;
  code: number;
}

export interface ProcessResult {
  /** Bytes: decrypt writes binary. */
  stdout: Buffer;
  stderr: string;
  code: number | null;
}

export interface RunOptions {
  stdin?: Buffer | string;
  /** Added to (or replacing) the home's environment for this run. */
  env?: Env;
}

export interface CliHome {
  dir: string;
  /** The environment every run gets; a test may add to it (e.g. KUBECONFIG). */
  env: Record<string, string | undefined>;
  /** `$XDG_CONFIG_HOME/berth/config.json`. */
  configPath: string;
  /** Runs `berth args` in-process, in `dir`. */
  berth(args: string[], stdin?: string): Promise<CliResult>;
  /** Runs the built `dist/berth.js` as a child process, in `dir`. */
  berthProcess(args: string[], options?: RunOptions): Promise<ProcessResult>;
}

/**
 * A fresh home, removed when the test finishes (call in a test or a `beforeEach`). `helperOnPath`
 * puts a `docker-credential-berth` for the built helper first on PATH, as an installed berth would be.
 */
export async function cliHome(extra: Env = {}, { helperOnPath = false, prefix = 'berth-cli-' } = {}): Promise<CliHome> {
  const dir = await tempDir(prefix);
  const basePath = extra.PATH ?? process.env.PATH ?? '/usr/bin:/bin';
  let path = basePath;
  if (helperOnPath) {
    await mkdir(join(dir, 'bin'));
    const shim = `#!/bin/sh\n${shimExec('helper')}\n`;
    await writeFile(join(dir, 'bin/docker-credential-berth'), shim, { mode: 0o755 });
    path = `${join(dir, 'bin')}:${basePath}`;
  }
  const env: Record<string, string | undefined> = { ...homeEnv(dir), ...extra, PATH: path };
  return {
    dir,
    env,
    configPath: join(env.XDG_CONFIG_HOME ?? join(dir, '.config'), 'berth', 'config.json'),
    async berth(args, stdin = '') {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      stdout.on('data', (chunk: Buffer) => out.push(chunk));
      stderr.on('data', (chunk: Buffer) => err.push(chunk));
      const code = await main(args, { env, cwd: dir, stdin: Readable.from([Buffer.from(stdin)]), stdout, stderr });
      return { stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code };
    },
    berthProcess: (args, options = {}) => runBuilt(args, dir, { ...env, ...options.env }, options.stdin),
  };
}

function runBuilt(args: string[], cwd: string, env: Env, stdin: Buffer | string = ''): Promise<ProcessResult> {
  const [program, argv] = argvFor('berth', args); // throws when that build is missing
  return new Promise((resolve, reject) => {
    const child = spawn(program, argv, { cwd, env });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr).toString() }));
    child.stdin.end(stdin);
  });
}

/** One line of a CLI script: the command, its stdin, and what it must print and exit with. */
export interface CliStep {
  args: string[];
  stdin?: string;
  /** Exact text, or a pattern; omitted: not checked. */
  stdout?: string | RegExp;
  stderr?: string | RegExp;
  /** Default 0. */
  code?: number;
}

/** Runs each step in order in `home`, checking its output and exit code; returns the results. */
export async function runScript(home: CliHome, steps: readonly CliStep[]): Promise<CliResult[]> {
  const results: CliResult[] = [];
  for (const step of steps) {
    const result = await home.berth(step.args, step.stdin);
    const where = `berth ${step.args.join(' ')}`;
    expect(result.code, `${where}: exit code (stderr: ${result.stderr})`).toBe(step.code ?? 0);
    for (const stream of ['stdout', 'stderr'] as const) {
      const want = step[stream];
      if (typeof want === 'string') expect(result[stream], `${where}: ${stream}`).toBe(want);
      else if (want) expect(result[stream], `${where}: ${stream}`).toMatch(want);
    }
    results.push(result);
  }
  return results;
}
